// The Docker image's manifest: package.json is the library's manifest, where the gateway's own
// packages (OTel SDK, exporters, the HTTP platforms, microservices, ...) are devDependencies so that
// they never reach a library user's install. The image needs them at run time, so this moves every
// package the built code in dist/ actually requires from devDependencies to dependencies; the
// Dockerfile then runs `npm prune --omit=dev`, which keeps exactly those and drops the tooling.
// Run in the build stage after `npm run build`: node deploy/docker/image-manifest.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const root = process.argv[2] ?? '.';
const manifestPath = join(root, 'package.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const builtins = new Set(builtinModules);
// require('x') and import('x'), and the optional peers the library loads by name when a feature
// is used: loadOptionalPeer('ioredis', ...) (src/llm/optional-peer.ts).
const SPECIFIER = /\b(?:require|import|loadOptionalPeer\)?)\(\s*["']([^"'.][^"']*)["']/g;
// Packages Nest loads by name on the application's behalf (NestFactory.create's HTTP adapter).
const LOADED_BY_NEST = ['@nestjs/platform-express', '@nestjs/platform-fastify'];

function* jsFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (entry.name.endsWith('.js') && !entry.name.includes('.spec.')) yield path;
  }
}

/** `@scope/name/sub/path` -> `@scope/name`, `name/sub` -> `name`; builtins -> undefined. */
function packageOf(specifier) {
  if (specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtins.has(name) ? undefined : name;
}

const required = new Set(LOADED_BY_NEST);
for (const file of jsFiles(join(root, 'dist'))) {
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    const name = packageOf(specifier);
    if (name) required.add(name);
  }
}

const dependencies = { ...manifest.dependencies };
const moved = [];
for (const name of [...required].sort()) {
  if (dependencies[name]) continue;
  const range = manifest.devDependencies?.[name] ?? manifest.peerDependencies?.[name];
  if (!range) throw new Error(`dist/ requires '${name}', which package.json does not list`);
  dependencies[name] = range;
  moved.push(name);
}
for (const name of moved) delete manifest.devDependencies?.[name];
manifest.dependencies = dependencies;
// The image is an application, not a library: what it runs is a plain dependency.
delete manifest.peerDependencies;
delete manifest.peerDependenciesMeta;
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(
  `image dependencies: ${Object.keys(dependencies).length} (${moved.length} from dev/peer)`,
);
