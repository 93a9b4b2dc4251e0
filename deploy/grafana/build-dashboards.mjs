#!/usr/bin/env node
// Writes dashboards/llm-trends.json from llm-trends.dashboard.mjs (Grafana's foundation SDK).
// Run after editing a panel:
//
//   node deploy/grafana/build-dashboards.mjs          # rewrite the JSON
//   node deploy/grafana/build-dashboards.mjs --check  # exit 1 if the JSON is out of date
//
// The JSON is committed so that Grafana's file provisioning (docker-compose) needs no build step.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { llmTrendsDashboard } from './llm-trends.dashboard.mjs';

const target = fileURLToPath(new URL('./dashboards/llm-trends.json', import.meta.url));
// Formatted as `npm run format:check` wants every committed file.
const json = await format(JSON.stringify(llmTrendsDashboard()), {
  parser: 'json',
  filepath: target,
});

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is out of date like any other.
  }
  if (current !== json) {
    console.error(
      `${target} is out of date with llm-trends.dashboard.mjs: run node deploy/grafana/build-dashboards.mjs`,
    );
    process.exitCode = 1;
  }
} else {
  writeFileSync(target, json);
  console.log(`wrote ${target}`);
}
