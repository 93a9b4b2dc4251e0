#!/usr/bin/env node
// Imports the dashboards into Kibana through its saved objects API (npm run kibana:import).
// Plain Node 20+ with no dependencies, so docker-compose can run it from a bare node image:
//
//   node deploy/kibana/import.mjs [file.ndjson ...]     # default: business-impact.ndjson
//
// Environment:
//   KIBANA_URL                 default http://localhost:5601
//   KIBANA_API_KEY             sent as `Authorization: ApiKey ...`, or
//   KIBANA_USERNAME/_PASSWORD  basic auth (credentials in KIBANA_URL work too)
//   KIBANA_SPACE               import into this space instead of the default one
//   KIBANA_WAIT_SECONDS        how long to wait for Kibana to be ready, default 300
//   KIBANA_RETRY_INTERVAL_MS   pause between readiness checks, default 3000
// Credentials are never printed.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUEST_TIMEOUT_MS = 30_000;

class ImportFailure extends Error {}

function readConfig(env) {
  let url;
  try {
    url = new URL(env.KIBANA_URL || 'http://localhost:5601');
  } catch {
    // The value is not echoed: it may hold credentials.
    throw new ImportFailure('KIBANA_URL is not a valid URL; set it like http://localhost:5601.');
  }
  // fetch refuses URLs with credentials: move them into the Authorization header.
  const username = env.KIBANA_USERNAME || decodeURIComponent(url.username);
  const password = env.KIBANA_PASSWORD || decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const headers = { 'kbn-xsrf': 'true' };
  if (env.KIBANA_API_KEY) headers.authorization = `ApiKey ${env.KIBANA_API_KEY}`;
  else if (username) {
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  const base = url.href.replace(/\/+$/, '');
  const space = env.KIBANA_SPACE ? `/s/${encodeURIComponent(env.KIBANA_SPACE)}` : '';
  return {
    base,
    apiBase: `${base}${space}`,
    headers,
    waitMs: 1000 * positive(env, 'KIBANA_WAIT_SECONDS', 300),
    intervalMs: positive(env, 'KIBANA_RETRY_INTERVAL_MS', 3000),
  };
}

function positive(env, name, fallback) {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) {
    throw new ImportFailure(`${name} must be a non-negative number; got '${env[name]}'.`);
  }
  return value;
}

/** Reads each NDJSON file up front, so a wrong path fails before waiting for Kibana. */
function readFiles(paths) {
  return paths.map((path) => {
    let content;
    try {
      content = readFileSync(path);
    } catch (error) {
      throw new ImportFailure(
        `Cannot read ${path} (${error.code ?? error.message}); pass NDJSON files exported by Kibana.`,
      );
    }
    const objects = content
      .toString('utf8')
      .split('\n')
      .map((line, index) => ({ line, number: index + 1 }))
      .filter(({ line }) => line.trim() !== '')
      .map(({ line, number }) => {
        try {
          return JSON.parse(line);
        } catch {
          throw new ImportFailure(
            `Line ${number} of ${path} is not JSON: NDJSON holds one object a line.`,
          );
        }
      });
    const dashboards = objects.filter((object) => object.type === 'dashboard');
    return { path, name: basename(path), content, dashboards };
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function credentialsFailure(config, status) {
  const how = config.headers.authorization
    ? 'check KIBANA_API_KEY or KIBANA_USERNAME/KIBANA_PASSWORD'
    : 'set KIBANA_API_KEY, or KIBANA_USERNAME and KIBANA_PASSWORD';
  return new ImportFailure(
    `Kibana at ${config.base} refused the request (HTTP ${status}): ${how}.`,
  );
}

/** Polls GET /api/status until Kibana says it is available; returns its version if it says. */
async function waitForKibana(config) {
  const deadline = Date.now() + config.waitMs;
  let lastReason = '';
  for (;;) {
    let reason;
    try {
      const response = await fetch(`${config.base}/api/status`, {
        headers: config.headers,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status === 401 || response.status === 403) {
        throw credentialsFailure(config, response.status);
      }
      const body = await response.json().catch(() => ({}));
      // 8.x and 9.x: status.overall.level; 7.x: status.overall.state.
      const level = body?.status?.overall?.level ?? body?.status?.overall?.state;
      if (
        response.ok &&
        (level === undefined || ['available', 'degraded', 'green', 'yellow'].includes(level))
      ) {
        return body?.version?.number;
      }
      reason = `HTTP ${response.status}${level ? `, status ${level}` : ''}`;
    } catch (error) {
      if (error instanceof ImportFailure) throw error;
      reason = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
    }
    if (Date.now() + config.intervalMs > deadline) {
      throw new ImportFailure(
        `Kibana at ${config.base} was not ready within ${config.waitMs / 1000} s (last answer: ${reason}). ` +
          'Is it running and is KIBANA_URL right? With docker compose: docker compose logs kibana.',
      );
    }
    if (reason !== lastReason) console.log(`Waiting for Kibana at ${config.base} (${reason})...`);
    lastReason = reason;
    await sleep(config.intervalMs);
  }
}

const describeError = ({ type, id, meta, title, error }) => {
  const name = meta?.title ?? title ?? id;
  const refs = (error?.references ?? []).map((r) => `${r.type}:${r.id}`).join(', ');
  return `  - ${type} "${name}" (${id}): ${error?.type ?? 'unknown error'}${refs ? ` [${refs}]` : ''}${error?.message ? ` ${error.message}` : ''}`;
};

/** POST /api/saved_objects/_import?overwrite=true with the file as multipart `file`. */
async function importFile(config, { name, content }) {
  const form = new FormData();
  // Kibana only accepts a file whose name ends in .ndjson.
  form.append('file', new Blob([content], { type: 'application/ndjson' }), name);
  const response = await fetch(`${config.apiBase}/api/saved_objects/_import?overwrite=true`, {
    method: 'POST',
    headers: config.headers,
    body: form,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (response.status === 401 || response.status === 403)
    throw credentialsFailure(config, response.status);
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text.slice(0, 500) };
  }
  if (!response.ok) {
    throw new ImportFailure(
      `Kibana refused to import ${name} (HTTP ${response.status}): ${body.message ?? body.error ?? text}`,
    );
  }
  if (body.success !== true) {
    const errors = (body.errors ?? []).map(describeError).join('\n');
    throw new ImportFailure(
      `Kibana imported ${body.successCount ?? 0} objects of ${name} but rejected others:\n${errors}`,
    );
  }
  return body.successCount;
}

async function main() {
  const config = readConfig(process.env);
  const paths = process.argv.slice(2);
  if (paths.length === 0)
    paths.push(fileURLToPath(new URL('./business-impact.ndjson', import.meta.url)));
  const files = readFiles(paths);
  const version = await waitForKibana(config);
  console.log(`Kibana${version ? ` ${version}` : ''} is ready at ${config.base}.`);
  for (const file of files) {
    const imported = await importFile(config, file);
    console.log(`Imported ${imported} saved objects from ${file.name}.`);
    for (const { id, attributes } of file.dashboards) {
      console.log(`Dashboard "${attributes.title}": ${config.apiBase}/app/dashboards#/view/${id}`);
    }
  }
}

main().catch((error) => {
  console.error(
    error instanceof ImportFailure
      ? error.message
      : `Kibana import failed: ${error?.stack ?? error}`,
  );
  process.exitCode = 1;
});
