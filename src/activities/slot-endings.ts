// How a job's last step on a host tells the job's slot on the same host that the release is coming.
// A job lets its slot go by cancelling `holdSlot`, and an activity hears of its cancellation only in
// the answer to a heartbeat, which the pool worker sends every ~2 s: every job used to keep its slot
// (and the next job waiting in the arch queue) 1–2 s after its last step had finished. Once the
// job's `removeWorkdir` has run here, its slot beats every 100 ms for a few seconds, so the cancel
// comes back within a beat of being requested. No workflow change: only when the host asks differs.

/** One entry per held slot, keyed by the job's run: `<workflowId>/<runId>`. */
export class SlotEndings {
  private readonly listeners = new Map<string, () => void>();

  /** Called by `holdSlot` while it holds the slot; returns the unsubscribe. */
  onEnding(run: string, listener: () => void): () => void {
    this.listeners.set(run, listener);
    return () => {
      if (this.listeners.get(run) === listener) this.listeners.delete(run);
    };
  }

  /** Called by the job's last step on this host. A run with no slot here (older jobs) is ignored. */
  ending(run: string): void {
    this.listeners.get(run)?.();
  }
}
