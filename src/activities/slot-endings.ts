// How a job's last step on a host tells the job's slot on the same host that the release is coming.
// A job lets its slot go by cancelling `holdSlot`, and an activity hears of its cancellation only in
// the answer to a heartbeat, which the pool worker sends every ~2 s: every job used to keep its slot
// (and the next job waiting in the arch queue) 1–2 s after its last step had finished. Once the
// job's `removeWorkdir` has run here, its slot beats every 100 ms for a few seconds, so the cancel
// comes back within a beat of being requested.
// Jobs that ask for it (holdSlot's `endsAfterWorkdir`) need no cancel at all: once their
// `removeWorkdir` has finished here, the slot ends itself (`ended`), which saves the job the cancel's
// round trip (request, next beat, confirmation) at its end.

/** One entry per held slot, keyed by the job's run: `<workflowId>/<runId>`. */
export class SlotEndings {
  private readonly listeners = new Map<string, () => void>();
  private readonly endedListeners = new Map<string, () => void>();

  /** Called by `holdSlot` while it holds the slot; returns the unsubscribe. */
  onEnding(run: string, listener: () => void): () => void {
    return subscribe(this.listeners, run, listener);
  }

  /** Called by a `holdSlot` that ends itself after the job's last step here; returns the unsubscribe. */
  onEnded(run: string, listener: () => void): () => void {
    return subscribe(this.endedListeners, run, listener);
  }

  /** Called by the job's last step on this host. A run with no slot here (older jobs) is ignored. */
  ending(run: string): void {
    this.listeners.get(run)?.();
  }

  /** Called once the job's last step on this host has finished (its workdir is gone, or kept). */
  ended(run: string): void {
    this.endedListeners.get(run)?.();
  }
}

function subscribe(listeners: Map<string, () => void>, run: string, listener: () => void): () => void {
  listeners.set(run, listener);
  return () => {
    if (listeners.get(run) === listener) listeners.delete(run);
  };
}
