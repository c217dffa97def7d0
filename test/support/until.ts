// Waiting for something to become true in a test: the one wait helper of the suite. It polls,
// is bounded, and fails naming what was waited for (a test waits for events, never for a fixed
// time). Deadlines are on the monotonic clock: the wall clock of this VM has been seen to step
// seconds forward (docs/testing.md), which would end a Date.now() deadline early.

export interface WaitOptions {
  /** How long to wait before failing; default 10 s. */
  timeoutMs?: number;
  /** Pause between two probes; default 25 ms. */
  intervalMs?: number;
  /**
   * Treat a probe that throws as "not yet" (a server that is restarting, a file not yet written);
   * the last error is part of the timeout's message. Default: a throwing probe fails the wait.
   */
  retryErrors?: boolean;
}

/** A probe's answer that means "not yet". */
type NotYet = undefined | null | false;

/**
 * Polls `probe` until it answers something other than undefined, null or false, and returns that
 * answer. `what` may be a function, evaluated only for the message, to say what was last seen.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | Promise<T>,
  options: WaitOptions | number = {},
): Promise<Exclude<T, NotYet>> {
  const { timeoutMs = 10_000, intervalMs = 25, retryErrors = false } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, NotYet>;
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (performance.now() > deadline) {
      const described = typeof what === 'function' ? what() : what;
      const cause = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${described}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `waitFor` for a condition (the common case): resolves once `probe` is true. */
export async function until(what: string | (() => string), probe: () => boolean | Promise<boolean>, options: WaitOptions | number = {}): Promise<void> {
  await waitFor(what, probe, options);
}
