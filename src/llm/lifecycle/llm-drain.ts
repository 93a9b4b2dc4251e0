import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions } from '../llm-module.options';
import { CallDeadline } from '../resilience/call-deadline';
import { LlmError } from '../resilience/llm.errors';

/** What a drain did: calls that finished in time, and calls it had to end. */
export interface LlmDrainResult {
  /** Calls in flight when the drain started. */
  inFlightAtStart: number;
  /** Calls ended with a `shutting_down` error because the drain timeout passed. */
  ended: number;
  /** How long the drain took. */
  durationMs: number;
}

/**
 * Graceful shutdown of LLM calls, transport-neutral: it tracks every call and stream in flight,
 * and on shutdown (1) turns readiness not-ready at once ({@link begin}), (2) lets the calls in
 * flight finish within `drain.timeoutMs`, (3) ends the rest with a `shutting_down`
 * {@link LlmError}, which is never retried and never counts toward a circuit breaker. Transports
 * close and events flush after it (Nest's `onApplicationShutdown`), so nothing in flight is cut
 * by its own sockets closing.
 *
 * It runs by itself in `beforeApplicationShutdown` (`app.enableShutdownHooks()`). An HTTP server
 * calls {@link begin} on SIGTERM, stops accepting after a short delay so load balancers notice the
 * failed readiness first, then awaits {@link drain}.
 *
 * @example
 * process.once('SIGTERM', async () => {
 *   drain.begin(); // readiness now 503
 *   await sleep(5_000); // load balancers stop sending
 *   server.close();
 *   await drain.drain(); // calls in flight finish, or end as shutting_down
 *   await app.close();
 * });
 */
@Injectable()
export class LlmDrain implements BeforeApplicationShutdown {
  private readonly calls = new Set<CallDeadline>();
  /** Message handlers in flight (microservices): a handler may still ack after its calls end. */
  private readonly handlers = new Set<object>();
  /** How to stop taking new messages, by consumer: run once, when the drain begins. */
  private readonly intakeStops = new Map<string, () => unknown>();
  private readonly logger = new Logger('LlmDrain');
  private state: 'serving' | 'draining' | 'closed' = 'serving';
  private drained?: Promise<LlmDrainResult>;
  private onIdle?: () => void;

  constructor(@Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions) {}

  /** True from {@link begin} on: readiness reports not-ready. */
  get draining(): boolean {
    return this.state !== 'serving';
  }

  /** Calls and streams in flight now. */
  get inFlight(): number {
    return this.calls.size;
  }

  /**
   * Tracks one call until its deadline is disposed. After the drain ended the rest, new calls are
   * refused with `shutting_down`; while it waits, they are still served (a load balancer may not
   * have noticed yet).
   */
  track(deadline: CallDeadline, upstream: string): void {
    if (this.state === 'closed') {
      deadline.dispose();
      throw new LlmError(
        'shutting_down',
        `This process is shutting down; the call to upstream '${upstream}' was not started. ` +
          'Send it to another replica.',
        { upstream, retryable: false },
      );
    }
    this.calls.add(deadline);
    deadline.onDispose(this.untrack);
  }

  // One function for every call (the deadline says which), not a closure per call.
  private readonly untrack = (deadline: CallDeadline): void => {
    this.calls.delete(deadline);
    this.checkIdle();
  };

  /**
   * Tracks one message handler until the returned function is called, so the drain waits for it
   * (its ack, its reply) as it waits for calls. `LlmContextInterceptor` does this for RPC handlers.
   */
  trackHandler(): () => void {
    const handler = {};
    this.handlers.add(handler);
    return () => {
      this.handlers.delete(handler);
      this.checkIdle();
    };
  }

  /**
   * Registers how to stop consuming (e.g. cancel an RMQ consumer), keyed so a consumer registers
   * once. It runs when the drain begins: consumption stops first, handlers in flight finish. When
   * the drain has begun already, it runs at once.
   */
  stopIntakeOnDrain(key: string, stop: () => unknown): void {
    if (this.intakeStops.has(key)) return;
    this.intakeStops.set(key, stop);
    if (this.state !== 'serving') this.runStop(key, stop);
  }

  private runStop(key: string, stop: () => unknown): void {
    try {
      Promise.resolve(stop()).catch((error: unknown) => this.stopFailed(key, error));
    } catch (error) {
      this.stopFailed(key, error);
    }
  }

  private stopFailed(key: string, error: unknown): void {
    this.logger.warn(`Could not stop consuming (${key}): ${(error as Error)?.message ?? error}`);
  }

  private checkIdle(): void {
    if (this.calls.size === 0 && this.handlers.size === 0) this.onIdle?.();
  }

  /** Turns readiness not-ready; calls keep being served. Idempotent. */
  begin(): void {
    if (this.state !== 'serving') return;
    this.state = 'draining';
    for (const [key, stop] of this.intakeStops) this.runStop(key, stop);
  }

  /**
   * Waits for the calls in flight, up to `timeoutMs` (`drain.timeoutMs` by default), then ends
   * the rest with `shutting_down`. Idempotent: later calls get the first drain's result.
   */
  drain(timeoutMs = this.options.drain.timeoutMs): Promise<LlmDrainResult> {
    this.begin();
    this.drained ??= this.run(timeoutMs);
    return this.drained;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private async run(timeoutMs: number): Promise<LlmDrainResult> {
    const started = Date.now();
    const inFlightAtStart = this.calls.size;
    if (inFlightAtStart > 0 || this.handlers.size > 0) {
      this.logger.log(
        `Draining ${inFlightAtStart} LLM call(s) and ${this.handlers.size} message handler(s) ` +
          `for up to ${timeoutMs} ms`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.state = 'closed';
    const ended = this.calls.size;
    if (ended > 0) {
      this.logger.warn(`Drain timeout (${timeoutMs} ms) passed: ending ${ended} LLM call(s)`);
      for (const deadline of [...this.calls]) deadline.shutDown();
      // The ended calls settle on the next turns: their errors reach callers before transports close.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
        if (this.calls.size === 0) this.onIdle();
      });
      this.onIdle = undefined;
    }
    return { inFlightAtStart, ended, durationMs: Date.now() - started };
  }
}
