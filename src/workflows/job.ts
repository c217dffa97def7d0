// A job: one task on one item on one arch. Read top to bottom, this is the story of every job —
// claim a host from the arch's pool, prepare the task there, run each formula action on that same
// host in order, and finish with an outcome. Its history is the job record.
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  TimeoutType,
  type RetryPolicy,
} from '@temporalio/common';
import {
  defineQuery,
  isCancellation,
  log,
  setHandler,
  proxyActivities,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActionOutput, ActionRequest, JobPaths, LoadedFormula, RunnerActivities, Workspace } from '../activities/index.js';
import { FailureType, NON_RETRYABLE } from '../common/failures.js';
import {
  EXIT_CODES,
  JOB_PROGRESS_QUERY,
  worstOutcome,
  type JobInput,
  type JobResult,
  type Outcome,
  type ReportedResult,
} from '../common/job.js';
import { jobEndDetails } from '../common/job-metadata.js';
import { runnerQueue } from '../common/queues.js';
import { Arch, Item, ItemType, JobOutcome, RunnerHost, TaskName } from '../common/search-attributes.js';
import { durationSeconds } from '../formula/duration.js';
import { summary as summarizeOutcomes } from '../results/model.js';
import { reportActivityOptions } from '../results/policy.js';
import type { Action } from '../formula/model.js';
import { builtinVariables, FormulaVariableError, substituteParams } from '../formula/substitute.js';

const DEFAULT_JOB_TIMEOUT_S = 2 * 3600;
const DEFAULT_MAX_HOSTS = 3;
/** How long a job waits in the arch's queue for a free runner before it gives up. */
const QUEUE_TIMEOUT = '24 hours';

/** Infrastructure steps (checkout, formula load, environment) retry with backoff; task logic does not. */
const INFRA_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
  nonRetryableErrorTypes: NON_RETRYABLE,
};

/** Raised inside the workflow to end the job with an outcome other than a normal completion. */
class JobStop extends Error {
  constructor(
    readonly outcome: 'CRASHED' | 'ABORTED',
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}

/** The host stopped answering: the job starts over on another host. */
class HostLost extends Error {}

export const progressQuery = defineQuery<JobResult>(JOB_PROGRESS_QUERY);

export async function runJob(input: JobInput): Promise<JobResult> {
  const info = workflowInfo();
  const jobTimeoutMs = (input.timeoutSeconds ?? DEFAULT_JOB_TIMEOUT_S) * 1000;
  const maxHosts = input.maxHostAttempts ?? DEFAULT_MAX_HOSTS;
  const heartbeatTimeout = `${input.supervision?.heartbeatTimeoutSeconds ?? 30} seconds`;
  const hostLostAfter = `${input.supervision?.hostLostAfterSeconds ?? 300} seconds`;
  const result: JobResult = {
    workflowId: info.workflowId,
    uuid: input.uuid,
    task: input.task,
    item: input.item,
    itemType: input.itemType,
    arch: input.arch,
    outcome: 'PASSED',
    exitCode: EXIT_CODES.ok,
    hosts: [],
    results: [],
    summary: '',
    actions: [],
    warnings: [],
  };
  setHandler(progressQuery, () => result);
  upsertSearchAttributes([
    { key: TaskName, value: input.task },
    { key: Item, value: input.item },
    { key: ItemType, value: input.itemType },
    { key: Arch, value: input.arch },
  ]);

  const pool = proxyActivities<RunnerActivities>({
    taskQueue: input.pool ?? runnerQueue(input.arch),
    scheduleToCloseTimeout: QUEUE_TIMEOUT,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });

  try {
    for (let attempt = 1; ; attempt++) {
      setCurrentDetails(`Waiting for a **${input.arch}** runner${attempt > 1 ? ` (host attempt ${attempt} of ${maxHosts})` : ''}`);
      const claim = await pool.claimHost();
      result.host = claim.hostname;
      result.hosts.push({ host: claim.hostname });
      upsertSearchAttributes([{ key: RunnerHost, value: claim.hostname }]);
      const deadline = Date.now() + jobTimeoutMs;
      try {
        await runOnHost(claim.taskQueue, deadline);
        break;
      } catch (error) {
        if (!(error instanceof HostLost)) throw error;
        result.hosts[result.hosts.length - 1]!.lostBecause = error.message;
        log.warn('runner host lost; job starts over', { host: claim.hostname, reason: error.message, attempt });
        if (attempt >= maxHosts) throw new JobStop('CRASHED', `lost ${attempt} runner hosts, giving up; last: ${error.message}`);
      }
    }
  } catch (error) {
    if (isCancellation(error)) {
      finish('ABORTED', 'the job was cancelled');
      throw error;
    }
    if (error instanceof JobStop) {
      finish(error.outcome, error.message, error.logTail);
      throw ApplicationFailure.create({
        type: error.outcome === 'CRASHED' ? FailureType.JobCrashed : FailureType.JobAborted,
        message: error.message,
        nonRetryable: true,
        details: [result],
      });
    }
    throw error;
  }
  const outcomes = result.results.map((r) => r.outcome);
  finish(outcomes.length > 0 ? worstOutcome(outcomes) : result.exitCode === EXIT_CODES.taskFailed ? 'FAILED' : 'PASSED');
  return result;

  function finish(outcome: Outcome, reason?: string, logTail?: string): void {
    result.outcome = outcome;
    if (outcome === 'CRASHED') result.exitCode = EXIT_CODES.crashed;
    if (outcome === 'ABORTED') result.exitCode = EXIT_CODES.aborted;
    if (reason) result.reason = reason;
    if (logTail) result.logTail = logTail;
    result.summary = summarizeOutcomes(result.results.map((r) => r.outcome)) || outcome;
    upsertSearchAttributes([{ key: JobOutcome, value: outcome }]);
    // Not a command: the job's page tells how it ended without opening the result JSON.
    setCurrentDetails(jobEndDetails(result));
  }

  /** Every step of the job on one host, on that host's own task queue. */
  async function runOnHost(taskQueue: string, deadline: number): Promise<void> {
    const remaining = () => {
      const ms = deadline - Date.now();
      if (ms <= 0) throw new JobStop('ABORTED', `the job exceeded its time limit of ${jobTimeoutMs / 1000} s`);
      return ms;
    };
    const onHost = (options: { timeoutMs?: number; retry?: RetryPolicy; activityId?: string } = {}) =>
      proxyActivities<RunnerActivities>({
        taskQueue,
        // Nobody picks it up: the host is gone (schedule-to-start is never retried by Temporal).
        scheduleToStartTimeout: hostLostAfter,
        startToCloseTimeout: Math.min(options.timeoutMs ?? 10 * 60_000, remaining()),
        heartbeatTimeout,
        retry: options.retry ?? INFRA_RETRY,
        ...(options.activityId ? { activityId: options.activityId } : {}),
      });

    result.actions = [];
    setCurrentDetails(`Preparing **${input.task}** on ${result.host}`);
    const workspace: Workspace = await step('prepareWorkspace', () =>
      onHost().prepareWorkspace({ uuid: input.uuid, task: input.task, source: input.source }),
    );
    result.artifacts = { host: workspace.hostname, dir: workspace.artifactsdir };
    if (workspace.repo) result.taskRepo = workspace.repo;
    if (workspace.commit) result.commit = workspace.commit;
    upsertMemo({
      taskRepo: workspace.repo ?? workspace.taskdir,
      ...(workspace.commit ? { commit: workspace.commit } : {}),
      artifacts: `${workspace.hostname}:${workspace.artifactsdir}`,
    });
    const loaded: LoadedFormula = await step('loadFormula', () =>
      onHost().loadFormula({ taskdir: workspace.taskdir, ...(input.formula ? { formula: input.formula } : {}) }),
    );
    result.warnings = loaded.warnings;
    const formula = loaded.formula;
    if (formula.timeout) {
      deadline = Math.min(deadline, Date.now() + durationSeconds(formula.timeout) * 1000);
    }
    const rpm = formula.environment?.rpm ?? [];
    if (rpm.length > 0) await step('checkEnvironment', () => onHost().checkEnvironment({ rpm }));

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
      jobid: info.workflowId,
      artifactsdir: workspace.artifactsdir,
      workdir: workspace.workdir,
      taskdir: workspace.taskdir,
      checkname: formula.name,
      ...(formula.namespace ? { namespace: formula.namespace } : {}),
    });
    const used = exportsUsedLater(formula.actions);
    result.actions = formula.actions.map((action, i) => ({ index: i + 1, name: action.name, directive: action.directive, status: 'not run' }));

    for (const [i, action] of formula.actions.entries()) {
      const record = result.actions[i]!;
      setCurrentDetails(`Action **${i + 1}/${formula.actions.length}** \`${action.name}\` (${action.directive}) on ${workspace.hostname}`);
      let params: unknown;
      try {
        params = substituteParams(action.directive, action.params, variables, { action: action.name, path: `actions[${i}].${action.directive}` });
      } catch (error) {
        if (error instanceof FormulaVariableError) {
          record.status = 'failed';
          record.error = error.message;
          throw new JobStop('CRASHED', `action '${action.name}': ${error.message}`);
        }
        throw error;
      }
      const request: ActionRequest = { index: i + 1, name: action.name, params, exported: Boolean(action.export && used.has(i)), job };
      const actionTimeoutMs = action.timeout ? durationSeconds(action.timeout) * 1000 : undefined;
      const activities = onHost({
        ...(actionTimeoutMs !== undefined ? { timeoutMs: actionTimeoutMs } : { timeoutMs: remaining() }),
        retry: actionRetry(action),
        activityId: `${i + 1}-${action.directive}`,
      });
      const started = Date.now();
      record.status = 'running';
      const call =
        action.directive === 'resultsdb'
          ? (r: ActionRequest) => report(taskQueue, r, workspace, formula.name, `${i + 1}-resultsdb`)
          : (activities[action.directive as keyof RunnerActivities] as unknown as (r: ActionRequest) => Promise<ActionOutput>);
      let output: ActionOutput;
      try {
        output = await call(request);
      } catch (error) {
        record.durationMs = Date.now() - started;
        const stop = classify(error, `action '${action.name}'`, actionTimeoutMs);
        record.status = isCancellation(error) ? 'cancelled' : stop instanceof JobStop && stop.outcome === 'ABORTED' ? 'timed out' : 'failed';
        record.error = stop.message;
        throw stop;
      }
      record.status = 'passed';
      record.durationMs = output.durationMs;
      if (output.log) record.log = output.log;
      if (action.export) variables[action.export] = output.output ?? null;
      if (output.exitCode !== undefined) result.exitCode = Math.max(result.exitCode, output.exitCode);
      if (output.results) result.results.push(...(output.results as ReportedResult[]));
    }
  }

  /**
   * The `resultsdb` directive. Reporting has its own clock: a ResultsDB outage is waited out for
   * hours (the report's outage budget), not cut short by the job's time limit — results are not lost.
   */
  async function report(taskQueue: string, request: ActionRequest, workspace: Workspace, checkname: string, activityId: string): Promise<ActionOutput> {
    const started = Date.now();
    const { reportResults } = proxyActivities<RunnerActivities>({
      taskQueue,
      scheduleToStartTimeout: hostLostAfter,
      ...reportActivityOptions(),
      activityId,
    });
    const params = request.params as { results?: string; file?: string };
    const job = request.job;
    const reported = await reportResults({
      ...(params.results !== undefined ? { results: params.results } : {}),
      ...(params.file !== undefined ? { file: params.file } : {}),
      job: {
        uuid: job.uuid,
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
    result.warnings.push(...reported.warnings);
    return {
      results: reported.reported,
      ...(request.exported ? { output: params.results ?? null } : {}),
      durationMs: Date.now() - started,
    };
  }

  /** Runs an infrastructure step, turning its failure into the job's end (or a host change). */
  async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw classify(error, name);
    }
  }

  function classify(error: unknown, what: string, actionTimeoutMs?: number): Error {
    if (isCancellation(error) || !(error instanceof ActivityFailure)) return error as Error;
    const cause = error.cause;
    if (cause instanceof TimeoutFailure) {
      if (cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
        return new HostLost(`${what}: host ${result.host} did not pick the step up within ${hostLostAfter}`);
      }
      if (cause.timeoutType === TimeoutType.HEARTBEAT) {
        return new HostLost(`${what}: host ${result.host} stopped heartbeating (no sign of life for ${heartbeatTimeout})`);
      }
      const limit = actionTimeoutMs !== undefined ? `its time limit of ${actionTimeoutMs / 1000} s` : 'the time left for the job';
      return new JobStop('ABORTED', `${what.startsWith('action') ? what : `step ${what}`} ran out of time (${limit})`);
    }
    if (cause instanceof ApplicationFailure && cause.type === FailureType.HostShuttingDown) {
      return new HostLost(`${what}: host ${result.host} shut down during the step`);
    }
    if (cause instanceof ApplicationFailure) {
      const details = (cause.details?.[0] ?? {}) as { logTail?: string };
      // Directive failures already name their action; infrastructure steps get their step name.
      const message = cause.message.startsWith(`action '`) ? cause.message : `${what}: ${cause.message}`;
      return new JobStop('CRASHED', message, details.logTail);
    }
    return new JobStop('CRASHED', `${what}: ${cause?.message ?? error.message}`);
  }
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
