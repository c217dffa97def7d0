// A job's hold on a runner host: one `holdSlot` activity on the arch's queue, taken only by a host
// with a free slot (its pool worker runs at most `concurrency` of them), which signals back its own
// queue and then heartbeats for as long as the job holds it. The job's steps race the slot: if the
// slot ends first (heartbeat timeout: the host died; HostShuttingDown: it was stopped), the steps
// are cancelled and the job moves on. Releasing is cancelling the activity, once, when the attempt
// ends in any way — or, for a job that is terminated or reset, the host's next heartbeat finding
// its run gone. Jobs since SLOT_ENDS_ITSELF_PATCH ask the host to end the slot itself once the
// job's last step there (removeWorkdir) has run: a job that got that far releases by waiting for
// the slot to end, without the cancel's round trip; every other ending still cancels.
import { ActivityCancellationType } from '@temporalio/common';
import { CancellationScope, condition, defineSignal, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RunnerActivities } from '../activities/index.js';
import { HOST_CLAIMED_SIGNAL, type SlotClaim } from '../common/job.js';
import { classifySlotFailure, HostLost } from './job-failures.js';

export const hostClaimedSignal = defineSignal<[SlotClaim]>(HOST_CLAIMED_SIGNAL);

/**
 * The slot is asked to end itself after the job's removeWorkdir on its host (holdSlot's argument).
 * Histories recorded before it scheduled holdSlot without one and always cancelled the slot.
 */
export const SLOT_ENDS_ITSELF_PATCH = 'slot-ends-itself';

/**
 * An upper bound the slot never reaches in practice (the job always lets go first); it has to
 * outlast the job's limit plus a ResultsDB outage the report step waits out (6 h).
 */
const SLOT_LIFETIME = '3 days';

export interface SlotOptions {
  /** The arch pool's queue. */
  pool: string;
  heartbeatTimeout: string;
  /** How long the job may wait in the arch queue for a free slot. */
  queueTimeout: string;
  /** The step the job is in, to name it when the host is lost. */
  during: () => string;
}

export interface HeldHost {
  hostname: string;
  taskQueue: string;
  /** Runs the job's work on this host; rejects with HostLost as soon as the slot is lost. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** The slot was lost while the work ran, and the work was cancelled for it (the host is not asked again). */
  wasLost(): boolean;
  /**
   * Gives the slot back and waits until the host has let go (bounded by the heartbeat timeout).
   * `lastStepDone`: the job's removeWorkdir completed on this host, so a host that said it ends the
   * slot itself has done so or is about to: wait for that instead of cancelling.
   */
  release(lastStepDone?: boolean): Promise<void>;
}

export class HostSlots {
  private readonly claims = new Map<string, SlotClaim>();
  /** The slot this run is waiting for: a claim for anything else is not this run's. */
  private awaiting: string | undefined;

  constructor(private readonly options: SlotOptions) {
    // A reset run gets the old run's signals re-applied at its start, claims included: they name a
    // slot of the old run, arrive before this run has asked for any, and are ignored.
    setHandler(hostClaimedSignal, (claim) => {
      if (claim.slotId === this.awaiting) this.claims.set(claim.slotId, claim);
    });
  }

  /** Waits in the arch queue until a host with a free slot takes the job. */
  async acquire(attempt: number): Promise<HeldHost> {
    const slotId = `slot-${attempt}`;
    const { holdSlot } = proxyActivities<RunnerActivities>({
      taskQueue: this.options.pool,
      activityId: slotId,
      scheduleToStartTimeout: this.options.queueTimeout,
      startToCloseTimeout: SLOT_LIFETIME,
      heartbeatTimeout: this.options.heartbeatTimeout,
      // A lost slot is a lost host: the job decides where to go next, Temporal does not retry it.
      retry: { maximumAttempts: 1 },
      // Release is recorded in history when the host has actually let go.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    this.awaiting = slotId;
    const asked = patched(SLOT_ENDS_ITSELF_PATCH);
    const scope = new CancellationScope();
    let released = false;
    let ended: { error: unknown } | undefined;
    const held = scope.run(() => (asked ? holdSlot({ endsAfterWorkdir: true }) : holdSlot())).then(
      () => {
        ended = { error: undefined };
      },
      (error: unknown) => {
        ended = { error };
      },
    );
    await condition(() => this.claims.has(slotId) || ended !== undefined);
    const claim = this.claims.get(slotId);
    const lost = (host: string | undefined) =>
      classifySlotFailure(ended?.error, { host, during: this.options.during(), heartbeatTimeout: this.options.heartbeatTimeout, queueTimeout: this.options.queueTimeout });
    if (!claim) throw lost(undefined);
    // Both sides agreed: the job asked, and the host (not an older one) said it will.
    const endsItself = asked && claim.endsAfterWorkdir === true;
    let lostWhileRunning = false;
    return {
      hostname: claim.hostname,
      taskQueue: claim.taskQueue,
      run: async <T>(work: () => Promise<T>): Promise<T> => {
        const steps = new CancellationScope();
        const done = steps.run(work);
        // The losing side of the race must not surface later as an unhandled rejection.
        done.catch(() => undefined);
        const slotEnded = held.then(() => {
          // A slot that ends itself does so only after the job's last step here: its completion may
          // reach the job before that step's own does, and is no lost host.
          if (endsItself && ended?.error === undefined) return new Promise<never>(() => undefined);
          const error = lost(claim.hostname);
          // A cancelled job cancels its slot and its steps together: the steps' own ending tells it.
          if (released || !(error instanceof HostLost)) return new Promise<never>(() => undefined);
          lostWhileRunning = true;
          steps.cancel();
          throw error;
        });
        slotEnded.catch(() => undefined);
        return Promise.race([done, slotEnded]);
      },
      wasLost: () => lostWhileRunning,
      release: async (lastStepDone = false) => {
        if (released || ended) return;
        released = true;
        // The host ends it once removeWorkdir has run there (or the slot times out if the host died).
        if (!(endsItself && lastStepDone)) scope.cancel();
        await held;
      },
    };
  }
}
