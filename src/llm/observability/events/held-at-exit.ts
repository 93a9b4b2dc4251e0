/** Work held for later (events not built yet, lines not written yet), by what does it. */
const held = new Set<() => void>();
let hooked = false;

/**
 * Has `finish` run by the process's `exit` hook if it is still held then ({@link releasedBeforeExit}
 * takes it back once it ran on its own). One hook for every holder, run in the order they were
 * held; what a holder hands on while the hook runs (a recorder's events reaching a sink that
 * holds them again) is held again and finished in the same pass.
 *
 * @example
 * holdUntilExit(this.flushNow);      // lines are held
 * releasedBeforeExit(this.flushNow); // written on time
 */
export function holdUntilExit(finish: () => void): void {
  held.add(finish);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    // A Set visits what is added during the loop: work handed on here is finished too.
    for (const finishNow of held) {
      held.delete(finishNow);
      finishNow();
    }
  });
}

/** `finish` ran before the process's exit: the hook has nothing more to do for it. */
export function releasedBeforeExit(finish: () => void): void {
  held.delete(finish);
}
