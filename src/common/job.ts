// The job contract: what starts a job workflow (ingest's trigger workflow, `runtask`, an operator in
// the UI) and what it answers. Plain data: all of it lives in workflow history.

/** Where the task's formula and code come from. */
export type TaskSource =
  /** A git repository (mirrored per host) at a branch, tag or commit. */
  | { kind: 'git'; repo: string; ref: string }
  /** A directory on the runner host itself: what `runtask` uses for a task author's working copy. */
  | { kind: 'local'; path: string };

export interface JobInput {
  /** Task name, e.g. `rpmlint`; also the default check name. */
  task: string;
  source: TaskSource;
  /** Formula file relative to the task directory; default `runtask.yml`. */
  formula?: string;
  item: string;
  /** `koji_build`, `koji_tag`, `bodhi_update`, `compose`, `dist_git_commit`, `module_build`, ... */
  itemType: string;
  arch: string;
  /** The job's uuid: artifacts dir name and ResultsDB group uuid. */
  uuid: string;
  /** What triggered the job, when a message did. */
  trigger?: { messageType?: string; msgId?: string; data?: Record<string, unknown> };
  /** Runner pool queue to claim a host from; default runner-<arch>. `runtask` uses a private one. */
  pool?: string;
  /** Wall-clock limit for the whole job; default 2 h. */
  timeoutSeconds?: number;
  /** How many hosts the job may try when a host disappears mid-job; default 3. */
  maxHostAttempts?: number;
  /** How a lost host is noticed (deployment knobs; tests shorten them). */
  supervision?: {
    /** A running step that sends no heartbeat for this long is presumed dead with its host; default 30 s. */
    heartbeatTimeoutSeconds?: number;
    /** A step nobody picks up from the host's queue for this long means the host is gone; default 300 s. */
    hostLostAfterSeconds?: number;
  };
}

/** Ordered from best to worst: a job's outcome is the worst of its results (reference §1.7). */
export const OUTCOMES = ['PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION', 'ABORTED', 'CRASHED'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export function worstOutcome(outcomes: Iterable<Outcome>, fallback: Outcome = 'PASSED'): Outcome {
  let worst = -1;
  for (const outcome of outcomes) worst = Math.max(worst, OUTCOMES.indexOf(outcome));
  return worst < 0 ? fallback : OUTCOMES[worst]!;
}

/** The workflow type every job runs as. */
export const JOB_WORKFLOW = 'runJob';
/** Query answering the job's progress so far (a JobResult snapshot). */
export const JOB_PROGRESS_QUERY = 'progress';
/**
 * Signal a runner host sends a job when its `holdSlot` activity starts: "slot <slotId> is yours, my
 * steps run on <taskQueue>". The activity then holds the slot (heartbeating) until the job lets go.
 */
export const HOST_CLAIMED_SIGNAL = 'hostClaimed';

export interface SlotClaim {
  /** The `holdSlot` activity id, so a late claim from an earlier attempt is recognised and ignored. */
  slotId: string;
  hostname: string;
  taskQueue: string;
  /** The host ends this slot itself once the job's `removeWorkdir` has run there (the job asked it to). */
  endsAfterWorkdir?: boolean;
}

/** A result as reported (to ResultsDB, or to results.yml in development). */
export interface ReportedResult {
  testcase: string;
  outcome: Outcome;
  item: string;
  type: string;
  note?: string;
  /** Where the result's artifact (log) is, as reported to ResultsDB. */
  refUrl?: string;
  /** ResultsDB result id, when reported there. */
  id?: number;
}

export interface ActionRecord {
  index: number;
  name: string;
  directive: string;
  status: 'passed' | 'running' | 'failed' | 'cancelled' | 'timed out' | 'not run';
  durationMs?: number;
  log?: string;
  /** The action's log on the web (artifacts.base_url), when one is configured. */
  logUrl?: string;
  error?: string;
}

/** What a job answers: the workflow result, or the details of its JobCrashed/JobAborted failure. */
export interface JobResult {
  workflowId: string;
  /** This run's id; a re-run (reset) has a new one. Absent in records made before re-runs existed. */
  runId?: string;
  /** Set in a re-run: the id of the job's first run, whose artifacts and results stay as they were. */
  rerunOf?: string;
  uuid: string;
  task: string;
  item: string;
  itemType: string;
  arch: string;
  outcome: Outcome;
  /** runtask's exit code: 0, 100 (an exitcode action said so), 1 crashed, 3 aborted. */
  exitCode: number;
  /** Why a job crashed or was aborted. */
  reason?: string;
  /** The last lines of the failed step's log. */
  logTail?: string;
  host?: string;
  /** Every host the job was started on, and why it left the ones before the last. */
  hosts: { host: string; lostBecause?: string }[];
  taskRepo?: string;
  commit?: string;
  /** Where the job's artifacts are: on the host, and on the web when artifacts.base_url is configured. */
  artifacts?: { host: string; dir: string; url?: string };
  results: ReportedResult[];
  summary: string;
  actions: ActionRecord[];
  warnings: string[];
}

/** runtask's exit codes (documented in docs/runtask.md). */
export const EXIT_CODES = { ok: 0, taskFailed: 100, crashed: 1, usage: 2, aborted: 3 } as const;
