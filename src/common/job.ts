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
  /** Wall-clock limit for the whole job; default 2 h. */
  timeoutSeconds?: number;
  /** How many hosts the job may try when a host disappears mid-job; default 3. */
  maxHostAttempts?: number;
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
