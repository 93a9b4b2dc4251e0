#!/usr/bin/env bash
# The package as a user gets it: `npm pack` from a fresh clone, installed from the tarball into a
# new Nest app pinned to the lowest supported Nest 12 and @opentelemetry/api 1.9 (the other
# packages from the npm registry), in a temporary folder. Checks:
#   1. exactly one copy of @nestjs/core and of @opentelemetry/api;
#   2. none of the OTel SDK/exporters, @nestjs/microservices, gRPC or protobufjs is installed, and
#      @nestjs/platform-express only as the app's own dependency;
#   3. a strict TypeScript file passing the openai SDK's message params to llm.chat and assigning
#      the result to OpenAI.Chat.ChatCompletion compiles (nodenext and node10 resolution);
#   4. forRootAsync fed from environment strings (numbers as strings, an unset optional value as
#      undefined) through ConfigService boots;
#   5. a call through it succeeds (against UpstreamSimulator from nestjs-resilient-llm/testing);
#   6. its spans reach the app's own OTel SDK (an in-memory exporter).
# Usage: test/package-install.sh (from the repository; uses its node_modules to build the pack).
# KEEP=1 keeps the temporary folder. Exits non-zero when any check fails.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/llm-package-install.XXXXXX")"
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }
step() { printf '\n--- %s (at %d s)\n' "$*" "$SECONDS"; }

# The lowest ends of the peer ranges (package.json peerDependencies). @nestjs/core 12.0.0 is not
# usable: its own peer range asks for @nestjs/common ^11.
NEST=12.0.1
OTEL_API=1.9.0
openai_range="$(node -p "require('$repo/package.json').devDependencies.openai")"

step "npm pack from a fresh clone of HEAD"
git clone --quiet --no-local "$repo" "$tmp/clone"
# The clone's build uses the repository's installed toolchain (CI installed it with npm ci).
ln -s "$repo/node_modules" "$tmp/clone/node_modules"
(cd "$tmp/clone" && npm pack --silent --pack-destination "$tmp" >"$tmp/pack.out" 2>"$tmp/pack.err") ||
  { cat "$tmp/pack.err"; exit 1; }
tarball="$tmp/$(tail -n 1 "$tmp/pack.out")"
echo "$(basename "$tarball"): $(du -k "$tarball" | cut -f1) kB, $(tar -tzf "$tarball" | wc -l) files"
if tar -tzf "$tarball" | grep -qE '^package/dist/(gateway|worker|main)|\.spec\.'; then
  fail "the tarball ships gateway, worker or spec files"
fi
# Every shipped source map's sources are shipped too.
missing_sources="$(cd "$tmp" && mkdir -p unpacked && tar -xzf "$tarball" -C unpacked && cd unpacked/package &&
  node -e '
    const fs = require("fs"), path = require("path");
    const maps = require("child_process").execSync("find dist -name \"*.js.map\"").toString().split("\n").filter(Boolean);
    const missing = maps.flatMap((m) => JSON.parse(fs.readFileSync(m, "utf8")).sources.map((s) => path.join(path.dirname(m), s)).filter((s) => !fs.existsSync(s)));
    const unmapped = require("child_process").execSync("grep -rl sourceMappingURL dist --include=*.js || true").toString().split("\n").filter(Boolean).filter((js) => !fs.existsSync(js + ".map"));
    console.log([...missing, ...unmapped].join(" "));
  ')"
[ -z "$missing_sources" ] && pass "source maps ship with the sources they point to" ||
  fail "source maps point to missing files: $missing_sources"
# What README.md links to and boot errors cite ("see CHANGELOG.md") is readable in an install.
missing_docs="$(cd "$tmp/unpacked/package" && for f in CHANGELOG.md $(grep -oE '\]\(docs/[^)#]+\.md' README.md | cut -c3- | sort -u); do
  [ -f "$f" ] || printf '%s ' "$f"
done)"
[ -z "$missing_docs" ] && pass "CHANGELOG.md and the docs README.md links to ship" ||
  fail "README.md links or errors cite files the tarball lacks: $missing_docs"

step "a new Nest $NEST app with @opentelemetry/api $OTEL_API installs the tarball"
mkdir -p "$tmp/app/src"
cat >"$tmp/app/package.json" <<JSON
{
  "name": "llm-package-install-app",
  "private": true,
  "dependencies": {
    "@nestjs/common": "$NEST",
    "@nestjs/core": "$NEST",
    "@nestjs/platform-express": "$NEST",
    "@nestjs/config": "^12.0.0",
    "@opentelemetry/api": "$OTEL_API",
    "@opentelemetry/sdk-trace-base": "^2.0.0",
    "nestjs-resilient-llm": "file:$tarball",
    "reflect-metadata": "^0.2.0",
    "rxjs": "^7.8.0"
  },
  "devDependencies": {
    "@types/express": "^5.0.0",
    "@types/node": "^22.0.0",
    "openai": "$openai_range",
    "typescript": "5.9.3"
  }
}
JSON
started=$SECONDS
(cd "$tmp/app" && npm install --no-fund --no-audit --loglevel=error >"$tmp/install.log" 2>&1) ||
  { cat "$tmp/install.log"; exit 1; }
echo "installed in $((SECONDS - started)) s: $(find "$tmp/app/node_modules" -name package.json -path '*/node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*/package.json' | wc -l) package manifests, $(du -sm "$tmp/app/node_modules" | cut -f1) MB"
cd "$tmp/app"

step "one copy of each shared package"
for name in @nestjs/core @nestjs/common @opentelemetry/api; do
  copies="$(find . -path "*/node_modules/$name/package.json" | wc -l)"
  versions="$(find . -path "*/node_modules/$name/package.json" -exec node -p 'require(process.argv[1]).version' {} \; | tr '\n' ' ')"
  [ "$copies" = 1 ] && pass "$name: one copy ($versions)" || fail "$name: $copies copies ($versions)"
done
npm ls @nestjs/core @opentelemetry/api >/dev/null 2>&1 && pass "npm ls: no missing or invalid peers" ||
  { fail "npm ls reports problems"; npm ls @nestjs/core @opentelemetry/api || true; }

step "no gateway packages in the install"
for name in @opentelemetry/sdk-node @opentelemetry/sdk-metrics @opentelemetry/sdk-logs \
  @opentelemetry/exporter-prometheus @opentelemetry/exporter-trace-otlp-http \
  @opentelemetry/exporter-trace-otlp-grpc @opentelemetry/instrumentation-http \
  @opentelemetry/instrumentation \
  @nestjs/microservices @grpc/grpc-js protobufjs ioredis amqplib @elastic/elasticsearch; do
  found="$(find . -path "*/node_modules/$name/package.json" | head -n 1)"
  [ -z "$found" ] || fail "$name is installed ($found)"
done
pass "checked: OTel SDK/exporters/instrumentation, microservices, gRPC, protobufjs, optional peers"
# platform-express is the app's own dependency: nothing of the package asks for it.
# Its dependents: the app itself, and @nestjs/core's optional peer (which installs nothing).
why="$(npm explain @nestjs/platform-express --json | node -e '
  const nodes = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const others = nodes.flatMap((n) => n.dependents).filter((d) => String(d.from?.location).startsWith("node_modules/") && d.type !== "peerOptional");
  console.log(others.map((d) => `${d.from?.name} (${d.type})`).join(", "));
')"
[ -z "$why" ] && pass "@nestjs/platform-express only as the app's own dependency" ||
  fail "@nestjs/platform-express is also required by: $why"

step "strict TypeScript with the openai SDK's types"
cat >src/openai-types.ts <<'TS'
import type OpenAI from 'openai';
import type { LlmClient } from 'nestjs-resilient-llm';
import type { SimulatorOptions } from 'nestjs-resilient-llm/testing';

/** The SDK's params in, the SDK's completion out: no casts. */
export async function ask(
  llm: LlmClient,
  messages: OpenAI.Chat.ChatCompletionMessageParam[],
  params: OpenAI.Chat.ChatCompletionCreateParams,
): Promise<OpenAI.Chat.ChatCompletion> {
  const { completion } = await llm.chat({ model: 'gpt-4o-mini', messages });
  const again: OpenAI.Chat.ChatCompletion = (await llm.chat(params)).completion;
  const text: string | null = completion.choices[0]?.message.content ?? null;
  for await (const chunk of llm.chatStream({ messages, temperature: 0.2 })) {
    const sdkChunk: OpenAI.Chat.ChatCompletionChunk = chunk;
    void sdkChunk;
  }
  void again;
  void text;
  return completion;
}

export const simulatorOptions: SimulatorOptions = { apiKey: 'sk-test' };
TS
cat >src/main.ts <<'TS'
import 'reflect-metadata';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Body, Controller, Module, Post, Res } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import {
  clientAbortSignal,
  LLM_TRACER_NAME,
  LlmClient,
  LlmModule,
  type ChatCompletionRequest,
  type LlmModuleOptions,
} from 'nestjs-resilient-llm';
import { UpstreamSimulator } from 'nestjs-resilient-llm/testing';

// The app's own OpenTelemetry SDK: the module's spans must land here.
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);

@Controller()
class ChatController {
  constructor(private readonly llm: LlmClient) {}

  @Post('chat')
  async chat(@Body() body: ChatCompletionRequest, @Res({ passthrough: true }) res: Response) {
    return (await this.llm.chat(body, { signal: clientAbortSignal(res) })).completion;
  }
}

type Factory = (config: ConfigService) => LlmModuleOptions;

// As the environment hands values out: strings, and undefined for what is not set.
const fromEnvironment: Factory = (config) => ({
  upstreams: [
    {
      name: 'sim',
      baseUrl: config.getOrThrow<string>('LLM_BASE_URL'),
      apiKey: config.get<string>('LLM_API_KEY'),
      defaultModel: config.get<string>('LLM_MODEL') ?? 'gpt-4o-mini',
      // Typed as numbers, but the environment holds '2' and '5000'.
      retry: { maxRetries: config.get<number>('LLM_MAX_RETRIES') },
      timeouts: { deadlineMs: config.get<number>('LLM_TOTAL_MS') },
    },
  ],
  // REDIS_URL is not set: undefined, which means "no Redis".
  redis: { url: config.get<string>('REDIS_URL') },
});

// The same configuration already typed, to check the call and the spans on their own.
const typed: Factory = (config) => ({
  upstreams: [
    {
      name: 'sim',
      baseUrl: config.getOrThrow<string>('LLM_BASE_URL'),
      apiKey: config.getOrThrow<string>('LLM_API_KEY'),
      defaultModel: 'gpt-4o-mini',
      retry: { maxRetries: 2 },
      timeouts: { deadlineMs: 5000 },
    },
  ],
});

function appModule(useFactory: Factory) {
  @Module({
    imports: [
      ConfigModule.forRoot({ ignoreEnvFile: true }),
      LlmModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory }),
    ],
    controllers: [ChatController],
  })
  class AppModule {}
  return AppModule;
}

async function boot(useFactory: Factory) {
  const app = await NestFactory.create(appModule(useFactory), {
    logger: false,
    abortOnError: false,
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

async function main(): Promise<void> {
  const sim = await UpstreamSimulator.start({ apiKey: 'sk-test' });
  process.env.LLM_BASE_URL = sim.baseUrl;
  process.env.LLM_API_KEY = 'sk-test';
  process.env.LLM_MAX_RETRIES = '2';
  process.env.LLM_TOTAL_MS = '5000';
  delete process.env.REDIS_URL;
  delete process.env.LLM_MODEL;
  const results: Array<[boolean, string]> = [];
  let booted: Awaited<ReturnType<typeof boot>> | undefined;
  try {
    booted = await boot(fromEnvironment);
    results.push([true, 'forRootAsync from environment strings (an unset optional) boots']);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    results.push([false, `forRootAsync from environment strings boots: ${message.split('\n').join(' ')}`]);
    booted = await boot(typed); // go on with typed values, to check the call and the spans
  }
  try {
    sim.script([{ type: 'error', status: 503 }, { type: 'ok', content: 'Hello from the simulator' }]);
    const response = await fetch(`${booted.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
    });
    const body = (await response.json()) as { choices?: Array<{ message?: { content?: string } }> };
    const content = body.choices?.[0]?.message?.content;
    results.push([
      response.status === 201 && content === 'Hello from the simulator' && sim.requests.length === 2,
      `a call succeeds after a retry (HTTP ${response.status}, "${content}", ${sim.requests.length} upstream requests)`,
    ]);
    const spans = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === LLM_TRACER_NAME);
    results.push([
      spans.length >= 3,
      `its spans reach the app's SDK: ${spans.length} spans (${[...new Set(spans.map((s) => s.name))].join(', ')})`,
    ]);
  } finally {
    await booted.app.close();
    await sim.close();
  }
  for (const [ok, text] of results) console.log(`  ${ok ? 'ok  ' : 'FAIL'}  ${text}`);
  process.exitCode = results.every(([ok]) => ok) ? 0 : 1;
}

void main();
TS
cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "target": "es2023",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "experimentalDecorators": true,
    "emitDecoratorMetadata": true,
    "esModuleInterop": true,
    "skipLibCheck": true,
    "outDir": "dist",
    "types": ["node"]
  },
  "include": ["src"]
}
JSON
if npx tsc -p tsconfig.json >"$tmp/tsc.log" 2>&1; then
  pass "compiles under strict (module nodenext): SDK params in, OpenAI.Chat.ChatCompletion out"
else
  fail "strict compile (nodenext)"; cat "$tmp/tsc.log"
fi
# Nest's older app template resolves like Node 10 (no package exports): typesVersions covers it.
if npx tsc --noEmit --strict --module commonjs --moduleResolution node10 --ignoreDeprecations 5.0 \
  --experimentalDecorators --esModuleInterop --skipLibCheck --types node --target es2023 src/openai-types.ts >"$tmp/tsc10.log" 2>&1; then
  pass "compiles under strict (module commonjs, moduleResolution node10)"
else
  fail "strict compile (node10)"; cat "$tmp/tsc10.log"
fi

step "boot, call, spans"
if [ -f dist/main.js ]; then
  out="$(node dist/main.js 2>&1)" && status=0 || status=$?
  echo "$out"
  echo "$out" | grep -q '^  FAIL' && failures=$((failures + $(echo "$out" | grep -c '^  FAIL')))
  [ "$status" = 0 ] || echo "$out" | grep -q '^  FAIL' || fail "the app exited with $status"
else
  fail "no dist/main.js to run"
fi

printf '\npackage install: %s\n' "$([ "$failures" = 0 ] && echo 'all checks passed' || echo "$failures check(s) failed")"
[ "$failures" = 0 ]
