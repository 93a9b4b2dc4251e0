import { LinkedAbortController, unwatchAbort, watchAbort } from './abort-link';

describe('abort links', () => {
  it('calls a linked function once, after the signal’s listeners, with the signal aborted', () => {
    const controller = new LinkedAbortController();
    const seen: string[] = [];
    controller.signal.addEventListener('abort', () => seen.push('listener'));
    watchAbort(controller.signal, () => seen.push(`watcher ${String(controller.signal.reason)}`));
    controller.abort('deadline');
    controller.abort('again');
    expect(seen).toEqual(['listener', 'watcher deadline']);
  });

  it('does not call an unlinked function, nor one linked after the abort', () => {
    const controller = new LinkedAbortController();
    const calls: string[] = [];
    const early = (): void => void calls.push('early');
    watchAbort(controller.signal, early);
    watchAbort(controller.signal, () => calls.push('kept'));
    unwatchAbort(controller.signal, early);
    controller.abort();
    watchAbort(controller.signal, () => calls.push('late'));
    expect(calls).toEqual(['kept']);
  });

  it('links any other signal with a listener', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const gone = (): void => void calls.push('gone');
    watchAbort(controller.signal, () => calls.push('linked'));
    watchAbort(controller.signal, gone);
    unwatchAbort(controller.signal, gone);
    controller.abort();
    expect(calls).toEqual(['linked']);
  });
});
