/**
 * Links between this module's own abort signals without EventTarget listeners. A call chains
 * several: the client's hang-up aborts the call's deadline, which aborts the attempt, which
 * aborts the upstream request. Each `addEventListener` on an `AbortSignal` costs a listener map,
 * a listener record and a validated options object, on every call; a signal made by
 * {@link LinkedAbortController} keeps its links in a plain list instead, called right after the
 * signal's own listeners. Any other signal (a caller's own) is linked with a listener, as before.
 */
const WATCHERS = Symbol('llm.abortWatchers');

type WatchedSignal = AbortSignal & { [WATCHERS]?: (() => void)[] | null };

/**
 * An AbortController whose signal also calls the functions {@link watchAbort} linked to it, once,
 * after the signal's event listeners, as a listener registered with `{ once: true }` would be.
 *
 * @example
 * const controller = new LinkedAbortController();
 * watchAbort(controller.signal, () => attempt.abort('call_over'));
 */
export class LinkedAbortController extends AbortController {
  constructor() {
    super();
    // Marks the signal as one whose links are kept here; the list is made by the first link.
    (this.signal as WatchedSignal)[WATCHERS] = null;
  }

  override abort(reason?: unknown): void {
    const signal = this.signal as WatchedSignal;
    if (signal.aborted) return;
    super.abort(reason);
    const watchers = signal[WATCHERS];
    if (!watchers) return;
    signal[WATCHERS] = null;
    for (const watcher of watchers) {
      try {
        watcher();
      } catch (error) {
        // As EventTarget does with a listener that throws: raised on its own, the others run.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * Calls `watcher` once when `signal` aborts (never if it already has, as with a listener).
 * Undo with {@link unwatchAbort}.
 */
export function watchAbort(signal: AbortSignal, watcher: () => void): void {
  const linked = signal as WatchedSignal;
  const watchers = linked[WATCHERS];
  if (watchers === undefined) {
    signal.addEventListener('abort', watcher, { once: true });
  } else if (!signal.aborted) {
    if (watchers === null) linked[WATCHERS] = [watcher];
    else watchers.push(watcher);
  }
}

/** Unlinks a `watcher` given to {@link watchAbort}; nothing when it is not linked (any more). */
export function unwatchAbort(signal: AbortSignal, watcher: () => void): void {
  const watchers = (signal as WatchedSignal)[WATCHERS];
  if (watchers === undefined) {
    signal.removeEventListener('abort', watcher);
    return;
  }
  if (!watchers) return;
  const last = watchers.length - 1;
  // Usually the last one linked (links are undone in reverse): no array of removed elements.
  if (watchers[last] === watcher) {
    watchers.pop();
    return;
  }
  const at = watchers.lastIndexOf(watcher);
  if (at !== -1) watchers.splice(at, 1);
}
