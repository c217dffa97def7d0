// The job record as the workflow writes it: one JobResult, changed only through these methods, so
// the bookkeeping rules (which outcome wins, what an action's status becomes, what a host move
// leaves behind) live in one pure, unit-tested place (test/job/job-record.test.ts).
import { EXIT_CODES, worstOutcome, type ActionRecord, type JobInput, type JobResult, type Outcome, type ReportedResult } from '../common/job.js';
import { summary as summarizeOutcomes } from '../results/model.js';
import { failedActionStatus } from './job-failures.js';

/** Which run of the job this is: a reset (Web UI or `temporal workflow reset`) starts a new run. */
export interface RunIdentity {
  workflowId: string;
  runId: string;
  /** The run the workflow started as; differs from runId in a reset run. */
  firstExecutionRunId: string;
}

/**
 * The directory name of a run's workdir and artifacts: the uuid for the first run, and a name of
 * its own for a re-run, so the first run's artifacts stay where its results point.
 */
export function runDirName(uuid: string, run: RunIdentity): string {
  return run.runId === run.firstExecutionRunId ? uuid : `${uuid}.rerun-${run.runId.slice(0, 8)}`;
}

export class JobRecord {
  readonly result: JobResult;
  /** The step the job is in, for progress and for naming a lost host's last step. */
  private step = 'waiting for a host';

  constructor(input: JobInput, run: RunIdentity) {
    this.result = {
      workflowId: run.workflowId,
      runId: run.runId,
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
      ...(run.runId !== run.firstExecutionRunId ? { rerunOf: run.firstExecutionRunId } : {}),
    };
  }

  get currentStep(): string {
    return this.step;
  }

  /** A host took the job: a new attempt starts with no actions run. */
  onHost(host: string): void {
    this.result.host = host;
    this.result.hosts.push({ host });
    this.result.actions = [];
    this.step = 'starting on the host';
  }

  hostLost(reason: string): void {
    const last = this.result.hosts.at(-1);
    if (last) last.lostBecause = reason;
  }

  stepStarted(name: string): void {
    this.step = name;
  }

  prepared(workspace: { hostname: string; artifactsdir: string; repo?: string; commit?: string }): void {
    this.result.artifacts = { host: workspace.hostname, dir: workspace.artifactsdir };
    if (workspace.repo) this.result.taskRepo = workspace.repo;
    if (workspace.commit) this.result.commit = workspace.commit;
  }

  /** The formula's actions, all 'not run'; returns this attempt's records (a lost host's stay behind). */
  planActions(actions: readonly { name: string; directive: string }[]): ActionRecord[] {
    this.result.actions = actions.map((action, i) => ({ index: i + 1, name: action.name, directive: action.directive, status: 'not run' }));
    return this.result.actions;
  }

  actionStarted(record: ActionRecord): void {
    record.status = 'running';
    this.step = `action '${record.name}'`;
  }

  actionPassed(record: ActionRecord, output: { durationMs: number; log?: string; exitCode?: number; results?: unknown[] }): void {
    record.status = 'passed';
    record.durationMs = output.durationMs;
    if (output.log) record.log = output.log;
    if (output.exitCode !== undefined) this.result.exitCode = Math.max(this.result.exitCode, output.exitCode);
    if (output.results) this.result.results.push(...(output.results as ReportedResult[]));
  }

  /** The action's step failed with `error`, which the job reads as `stop`. */
  actionFailed(record: ActionRecord, error: unknown, stop: Error, durationMs?: number): void {
    record.status = failedActionStatus(error, stop);
    if (durationMs !== undefined) record.durationMs = durationMs;
    record.error = stop.message;
  }

  /** The outcome of a job whose actions all ran: the worst result, else what the exit code says. */
  completedOutcome(): Outcome {
    const outcomes = this.result.results.map((r) => r.outcome);
    if (outcomes.length > 0) return worstOutcome(outcomes);
    return this.result.exitCode === EXIT_CODES.taskFailed ? 'FAILED' : 'PASSED';
  }

  /** Ends the record; returns the one-line description the UI shows as the job's current details. */
  finish(outcome: Outcome, reason?: string, logTail?: string): string {
    const result = this.result;
    result.outcome = outcome;
    if (outcome === 'CRASHED') result.exitCode = EXIT_CODES.crashed;
    if (outcome === 'ABORTED') result.exitCode = EXIT_CODES.aborted;
    if (reason) result.reason = reason;
    if (logTail) result.logTail = logTail;
    result.summary = summarizeOutcomes(result.results.map((r) => r.outcome)) || outcome;
    this.step = 'finished';
    return `**${outcome}**${reason ? `: ${reason}` : ''}${result.summary !== outcome ? ` — ${result.summary}` : ''}`;
  }
}
