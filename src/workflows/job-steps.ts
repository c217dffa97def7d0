// The job's work on the one host that holds it: prepare the workspace, load the formula, check the
// environment, then each action in order, all on that host's own task queue. A failed step ends the
// job (JobStop) or moves it (HostLost); job-failures.ts decides which, job-record.ts keeps the books.
import { CancelledFailure, type RetryPolicy } from '@temporalio/common';
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { ActionOutput, ActionRequest, JobPaths, LoadedFormula, RunnerActivities, Workspace } from '../activities/index.js';
import { NON_RETRYABLE } from '../common/failures.js';
import type { JobInput } from '../common/job.js';
import { durationSeconds } from '../formula/duration.js';
import type { Action } from '../formula/model.js';
import { builtinVariables, FormulaVariableError, substituteParams } from '../formula/substitute.js';
import { reportActivityOptions } from '../results/policy.js';
import { classifyStepFailure, JobStop } from './job-failures.js';
import { reportProgress, reportWorkspace } from './job-progress.js';
import type { JobRecord } from './job-record.js';

/** Infrastructure steps (checkout, formula load, environment) retry with backoff; task logic does not. */
const INFRA_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE,
};

/** The job's wall-clock limit: when it started counting and when it runs out. */
export class JobClock {
  deadline: number;
  constructor(
    readonly limitMs: number,
    readonly startedAt: number,
  ) {
    this.deadline = startedAt + limitMs;
  }

  /** The formula's `timeout:`, counted from `from`, can only shorten the job's limit. */
  tighten(timeoutMs: number, from: number): void {
    this.deadline = Math.min(this.deadline, from + timeoutMs);
  }

  remainingMs(now: number): number {
    const ms = this.deadline - now;
    if (ms <= 0) throw new JobStop('ABORTED', `the job exceeded its time limit of ${this.limitMs / 1000} s`);
    return ms;
  }
}

export interface HostRun {
  input: JobInput;
  record: JobRecord;
  host: string;
  taskQueue: string;
  clock: JobClock;
  /**
   * Where the formula's `timeout:` counts from: the job's first host (its limit spans all hosts)
   * or, in histories recorded before slots, each host attempt's start.
   */
  formulaTimeoutFrom: number;
  /** Directory name of this run's workdir and artifacts (the uuid, or the uuid plus a re-run mark). */
  dirName: string;
  jobid: string;
  /**
   * Suffix of action activity ids on a later host ('' on the first): a lost host's step may still
   * be pending (its cancel not yet confirmed) when the next host starts the same action.
   */
  attemptSuffix: string;
  heartbeatTimeout: string;
  hostLostAfter: string;
}

/** Every step of the job on one host, on that host's own task queue. */
export async function runSteps(run: HostRun): Promise<void> {
  const { input, record } = run;
  const workspace: Workspace = await step(run, 'prepareWorkspace', () =>
    onHost(run).prepareWorkspace({
      uuid: input.uuid,
      task: input.task,
      source: input.source,
      ...(run.dirName !== input.uuid ? { dirName: run.dirName } : {}),
    }),
  );
  record.prepared(workspace);
  reportWorkspace(workspace, record.result.rerunOf);
  const loaded: LoadedFormula = await step(run, 'loadFormula', () =>
    onHost(run).loadFormula({ taskdir: workspace.taskdir, ...(input.formula ? { formula: input.formula } : {}) }),
  );
  record.result.warnings = loaded.warnings;
  const formula = loaded.formula;
  if (formula.timeout) run.clock.tighten(durationSeconds(formula.timeout) * 1000, run.formulaTimeoutFrom);
  const rpm = formula.environment?.rpm ?? [];
  if (rpm.length > 0) await step(run, 'checkEnvironment', () => onHost(run).checkEnvironment({ rpm }));

  const job: JobPaths = {
    uuid: input.uuid,
    task: input.task,
    item: input.item,
    itemType: input.itemType,
    arch: input.arch,
    taskdir: workspace.taskdir,
    workdir: workspace.workdir,
    artifactsdir: workspace.artifactsdir,
    ...(formula.namespace ? { namespace: formula.namespace } : {}),
  };
  const variables: Record<string, unknown> = builtinVariables({
    item: input.item,
    itemType: input.itemType,
    arch: input.arch,
    uuid: input.uuid,
    jobid: run.jobid,
    artifactsdir: workspace.artifactsdir,
    workdir: workspace.workdir,
    taskdir: workspace.taskdir,
    checkname: formula.name,
    ...(formula.namespace ? { namespace: formula.namespace } : {}),
  });
  const used = exportsUsedLater(formula.actions);
  const records = record.planActions(formula.actions);

  for (const [i, action] of formula.actions.entries()) {
    const actionRecord = records[i]!;
    reportProgress(`Action **${i + 1}/${formula.actions.length}** \`${action.name}\` (${action.directive}) on ${workspace.hostname}`);
    let params: unknown;
    try {
      params = substituteParams(action.directive, action.params, variables, { action: action.name, path: `actions[${i}].${action.directive}` });
    } catch (error) {
      if (error instanceof FormulaVariableError) {
        const stop = new JobStop('CRASHED', `action '${action.name}': ${error.message}`);
        record.actionFailed(actionRecord, error, stop);
        throw stop;
      }
      throw error;
    }
    const request: ActionRequest = { index: i + 1, name: action.name, params, exported: Boolean(action.export && used.has(i)), job };
    const actionTimeoutMs = action.timeout ? durationSeconds(action.timeout) * 1000 : undefined;
    const activityId = `${i + 1}-${action.directive}${run.attemptSuffix}`;
    const started = Date.now();
    record.actionStarted(actionRecord);
    let output: ActionOutput;
    try {
      if (action.directive === 'resultsdb') {
        output = await report(run, request, workspace, formula.name, activityId);
      } else {
        const activities = onHost(run, { timeoutMs: actionTimeoutMs ?? run.clock.remainingMs(Date.now()), retry: actionRetry(action), activityId });
        output = await (activities[action.directive as keyof RunnerActivities] as unknown as (r: ActionRequest) => Promise<ActionOutput>)(request);
      }
    } catch (error) {
      const stop = classifyStepFailure(error, { ...stepContext(run, `action '${action.name}'`), ...(actionTimeoutMs !== undefined ? { actionTimeoutMs } : {}) });
      record.actionFailed(actionRecord, error, stop, Date.now() - started);
      throw stop;
    }
    // A step that finished after its host was given up (or its job cancelled) counts for nothing:
    // the job has moved on, and only the current host's steps write the record.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure(`action '${action.name}' finished after its host was given up`);
    if (action.export) variables[action.export] = output.output ?? null;
    record.actionPassed(actionRecord, output);
  }
}

function stepContext(run: HostRun, what: string) {
  return { what, host: run.host, heartbeatTimeout: run.heartbeatTimeout, hostLostAfter: run.hostLostAfter };
}

/** Activities on the job's host, bounded by the time the job has left. */
function onHost(run: HostRun, options: { timeoutMs?: number; retry?: RetryPolicy; activityId?: string } = {}) {
  return proxyActivities<RunnerActivities>({
    taskQueue: run.taskQueue,
    // Nobody picks it up: the host is gone (schedule-to-start is never retried by Temporal).
    scheduleToStartTimeout: run.hostLostAfter,
    startToCloseTimeout: Math.min(options.timeoutMs ?? 10 * 60_000, run.clock.remainingMs(Date.now())),
    heartbeatTimeout: run.heartbeatTimeout,
    retry: options.retry ?? INFRA_RETRY,
    ...(options.activityId ? { activityId: options.activityId } : {}),
  });
}

/** Runs an infrastructure step, turning its failure into the job's end (or a host change). */
async function step<T>(run: HostRun, name: string, work: () => Promise<T>): Promise<T> {
  run.record.stepStarted(name);
  reportProgress(name === 'prepareWorkspace' ? `Preparing **${run.input.task}** on ${run.host}` : `\`${name}\` on ${run.host}`);
  try {
    return await work();
  } catch (error) {
    throw classifyStepFailure(error, stepContext(run, name));
  }
}

/**
 * The `resultsdb` directive. Reporting has its own clock: a ResultsDB outage is waited out for
 * hours (the report's outage budget), not cut short by the job's time limit — results are not lost.
 */
async function report(run: HostRun, request: ActionRequest, workspace: Workspace, checkname: string, activityId: string): Promise<ActionOutput> {
  const started = Date.now();
  const { reportResults } = proxyActivities<RunnerActivities>({
    taskQueue: run.taskQueue,
    scheduleToStartTimeout: run.hostLostAfter,
    ...reportActivityOptions(),
    activityId,
  });
  const params = request.params as { results?: string; file?: string };
  const job = request.job;
  const reported = await reportResults({
    ...(params.results !== undefined ? { results: params.results } : {}),
    ...(params.file !== undefined ? { file: params.file } : {}),
    job: {
      // A re-run reports into a group of its own, whose artifact links point at its own directory.
      uuid: run.dirName,
      task: checkname,
      item: job.item,
      itemType: job.itemType,
      arch: job.arch,
      taskdir: job.taskdir,
      artifactsdir: job.artifactsdir,
      ...(job.namespace ? { namespace: job.namespace } : {}),
      ...(workspace.repo ? { taskRepo: workspace.repo } : {}),
    },
  });
  run.record.result.warnings.push(...reported.warnings);
  return {
    results: reported.reported,
    ...(request.exported ? { output: params.results ?? null } : {}),
    durationMs: Date.now() - started,
  };
}

/** Formula `retry:` → Temporal retry policy; without it a task action runs exactly once. */
function actionRetry(action: Action): RetryPolicy {
  if (!action.retry) return { maximumAttempts: 1 };
  return {
    maximumAttempts: action.retry.attempts,
    initialInterval: durationSeconds(action.retry.backoff) * 1000,
    backoffCoefficient: 2,
    ...(action.retry.maxBackoff ? { maximumInterval: durationSeconds(action.retry.maxBackoff) * 1000 } : {}),
    nonRetryableErrorTypes: NON_RETRYABLE,
  };
}

/** Indexes of actions whose export a later action references, so unused outputs stay out of history. */
function exportsUsedLater(actions: readonly Action[]): Set<number> {
  const used = new Set<number>();
  actions.forEach((action, i) => {
    if (!action.export) return;
    const pattern = new RegExp(`\\$(?:${action.export}\\b|\\{${action.export}[.}])`);
    if (actions.slice(i + 1).some((later) => pattern.test(JSON.stringify(later.params)))) used.add(i);
  });
  return used;
}
