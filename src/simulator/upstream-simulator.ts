import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleChatCompletions } from './chat-completions.handler';
import { newRequestId, sendError } from './http.io';
import { handleModels } from './models.handler';
import { parseConfigPatch, parseOutage } from './sim-config.validator';
import { handleControl } from './sim-control.handler';
import { parseSteps } from './sim-step.validator';
import { resolveConfig, SimulatorState } from './simulator.state';
import type {
  RecordedRequest,
  SimConfig,
  SimOutage,
  SimStep,
  SimulatorOptions,
} from './simulator.types';

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
const MODELS_PATHS = new Set(['/v1/models', '/models']);

/**
 * An OpenAI-compatible upstream that injects faults on demand. A bare `node:http` server, not
 * Nest: it must add next to no latency to benchmarks and needs the raw socket for resets.
 *
 * @example
 * const sim = await UpstreamSimulator.start({ apiKey: 'sk-test' });
 * sim.script([{ type: 'error', status: 503, repeat: 2 }, { type: 'ok', content: 'Hi' }]);
 * // ... point the client at sim.baseUrl ...
 * await sim.close();
 */
export class UpstreamSimulator {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    private readonly state: SimulatorState,
    /** The port listened on (the free port picked when started with 0). */
    readonly port: number,
    /** The host listened on. */
    readonly host: string,
  ) {}

  /** Starts listening; resolves once the port is bound. */
  static async start(options: SimulatorOptions = {}): Promise<UpstreamSimulator> {
    const { port = 0, host = '127.0.0.1', ...config } = options;
    const state = new SimulatorState(resolveConfig(parseSimulatorOptions(config)));
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => serve(req, res, state));
    // Tracked so close() can end hanging requests and idle keep-alive connections at once.
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    return new UpstreamSimulator(server, sockets, state, bound, host);
  }

  /** The OpenAI-style base URL, e.g. `http://127.0.0.1:4010/v1`. */
  get baseUrl(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}/v1`;
  }

  /** Every chat-completions request received since start or the last reset, in order. */
  get requests(): ReadonlyArray<RecordedRequest> {
    return this.state.requests;
  }

  /**
   * Appends steps to the script; each chat request consumes one (after its `repeat`).
   *
   * @throws SimValidationError naming the first bad field
   */
  script(steps: SimStep[]): void {
    this.state.queue.push(parseSteps(steps));
  }

  /** Changes latency, limits, key, models or the outage; `undefined` switches a limit off. */
  configure(patch: Partial<SimConfig>): void {
    this.state.configure(parseConfigPatch(patch));
  }

  /** Every chat request answers `status` (default 503) for `durationMs`. */
  startOutage(outage: SimOutage): void {
    this.state.startOutage(parseOutage(outage));
  }

  /** Clears script, outage, rate-limit window and recorded requests; restores the start config. */
  reset(): void {
    this.state.reset();
  }

  /** Stops listening and destroys every socket, so hanging requests end too. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }
}

function parseSimulatorOptions(config: Partial<SimConfig>): Partial<SimConfig> {
  return parseConfigPatch(config, 'options');
}

function serve(req: IncomingMessage, res: ServerResponse, state: SimulatorState): void {
  const startedAt = Date.now();
  res.setHeader('x-request-id', newRequestId());
  // A client that leaves mid-write is a normal event here, not a crash.
  res.on('error', () => undefined);
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  void route(req, res, state, abort.signal, startedAt).catch((error: unknown) => {
    if (res.headersSent) return void res.destroy();
    const message = `Simulator failure: ${error instanceof Error ? error.message : String(error)}`;
    sendError(res, 500, { message, type: 'server_error', code: null });
  });
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  state: SimulatorState,
  signal: AbortSignal,
  startedAt: number,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://simulator').pathname;
  if (path.startsWith('/_sim/')) return handleControl(req, res, path, state);
  if (req.method === 'POST' && CHAT_PATHS.has(path)) {
    return handleChatCompletions(req, res, path, state, signal, startedAt);
  }
  if (req.method === 'GET' && MODELS_PATHS.has(path)) return handleModels(req, res, state);
  const message = `Invalid URL (${req.method ?? 'GET'} ${path})`;
  sendError(res, 404, { message, type: 'invalid_request_error', code: null });
}
