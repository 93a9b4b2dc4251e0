#!/usr/bin/env node
// Writes business-impact.ndjson from business-impact.dashboard.mjs and the panels it lays out:
// one saved object per line, as Kibana's import API wants it. Run after editing a panel:
//
//   node deploy/kibana/build-saved-objects.mjs          # rewrite the NDJSON
//   node deploy/kibana/build-saved-objects.mjs --check  # exit 1 if the NDJSON is out of date
//
// The NDJSON is committed so that `npm run kibana:import` and docker-compose need no build step.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { savedObjects } from './business-impact.dashboard.mjs';

const target = fileURLToPath(new URL('./business-impact.ndjson', import.meta.url));
const ndjson = savedObjects()
  .map((object) => JSON.stringify(object))
  .join('\n')
  .concat('\n');

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is out of date like any other.
  }
  if (current !== ndjson) {
    console.error(
      `${target} is out of date with business-impact.*.mjs: run node deploy/kibana/build-saved-objects.mjs`,
    );
    process.exitCode = 1;
  }
} else {
  writeFileSync(target, ndjson);
  console.log(`Wrote ${savedObjects().length} saved objects to ${target}`);
}
