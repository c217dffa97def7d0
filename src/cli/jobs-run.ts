// `taskotron jobs`' subcommands at work (their options: jobs.ts), through Temporal's own APIs.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { JOB_PROGRESS_QUERY, JOB_WORKFLOW, type JobInput, type JobResult } from '../common/job.js';
import { jobStartDetails, jobSummary } from '../common/job-metadata.js';
import { runnerQueue } from '../common/queues.js';
import { Arch, Item, ItemType, TaskName } from '../common/search-attributes.js';
import { connectionOptions } from '../config/temporal.js';
import { ingestConfig, type IngestConfig } from '../ingest/config.js';
import {
  firstWorkflowTaskCompleted,
  formatDuration,
  formatJobTable,
  jobListQuery,
  jobRow,
  stepLabel,
  stepsFromHistory,
  table,
  withPending,
  type JobFilters,
  type JobRow,
} from './jobs-view.js';
import { configFromOptions, temporalSettingsFromOptions } from './options.js';

interface ConnectOptions {
  address?: string;
  namespace?: string;
}

/** An expected failure: one line on stderr and exit code 1, never a stack trace. */
class JobsCommandError extends Error {}

async function withClient<T>(options: ConnectOptions, run: (client: Client, namespace: string) => Promise<T>): Promise<T> {
  const settings = temporalSettingsFromOptions(options);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5000 });
  } catch (error) {
    throw new JobsCommandError(`cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}): ${(error as Error).message}`);
  }
  try {
    return await run(new Client({ connection, namespace: settings.namespace }), settings.namespace);
  } finally {
    await connection.close();
  }
}

/** Runs a subcommand: expected failures become one line and exit code 1. */
function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      if (error instanceof JobsCommandError || error instanceof WorkflowNotFoundError) {
        console.error(`taskotron jobs: ${error.message}`);
        process.exitCode = 1;
        return;
      }
      throw error;
    }
  };
}

/** The job's latest run (a rerun makes a new one), or the run asked for. */
async function jobHandle(client: Client, workflowId: string, runId?: string): Promise<WorkflowHandle> {
  let description;
  try {
    description = await client.workflow.getHandle(workflowId, runId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new JobsCommandError(`no job with workflow ID '${workflowId}'${runId ? ` and run ID ${runId}` : ''}`);
    throw error;
  }
  if (description.type !== JOB_WORKFLOW) throw new JobsCommandError(`${workflowId} is a ${description.type} workflow, not a job (${JOB_WORKFLOW})`);
  // Pinned to the run: a rerun starting meanwhile must not change what this command looks at.
  return client.workflow.getHandle(workflowId, description.runId);
}

/** The job's answer: its result, or the JobResult its JobCrashed/JobAborted failure carries. */
async function finishedResult(handle: WorkflowHandle): Promise<JobResult | undefined> {
  try {
    return (await handle.result()) as JobResult;
  } catch (error) {
    if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure && error.cause.details?.[0]) {
      return error.cause.details[0] as JobResult;
    }
    return undefined;
  }
}

export function uiUrl(namespace: string, workflowId: string, runId: string): string | undefined {
  const base = process.env.TASKOTRON_TEMPORAL_UI_URL;
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}

/** The last lines of a log the CLI can reach: served over HTTP, or a file on this machine. */
async function readLogTail(where: string, lines = 20): Promise<string | undefined> {
  try {
    let text: string | undefined;
    if (/^https?:\/\//.test(where)) {
      const response = await fetch(where, { signal: AbortSignal.timeout(5000) });
      if (response.ok) text = await response.text();
    } else if (existsSync(where)) {
      text = readFileSync(where, 'utf8');
    }
    return text?.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return undefined;
  }
}

async function listJobs(options: JobFilters & ConnectOptions & { json?: boolean; limit: number }): Promise<void> {
  let query: string;
  try {
    query = jobListQuery(options);
  } catch (error) {
    throw new JobsCommandError((error as Error).message);
  }
  const rows: JobRow[] = await withClient(options, async (client) => {
    const found: JobRow[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: Math.min(options.limit, 1000) })) {
      found.push(jobRow(execution));
      if (found.length >= options.limit) break;
    }
    return found;
  });
  if (options.json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.error(`no jobs match: ${query}`);
    return;
  }
  console.log(formatJobTable(rows));
}

async function showJob(workflowId: string, options: ConnectOptions & { run?: string; json?: boolean }): Promise<void> {
  await withClient(options, async (client, namespace) => {
    const handle = await jobHandle(client, workflowId, options.run);
    const description = await handle.describe();
    const history = await handle.fetchHistory();
    const running = description.status.name === 'RUNNING';
    const steps = withPending(stepsFromHistory(history.events ?? []), running ? (description.raw.pendingActivities ?? []) : []);
    let result: JobResult | undefined;
    if (running) {
      // A live snapshot if a worker answers soon; the history alone otherwise.
      result = await client.connection
        .withDeadline(Date.now() + 3000, () => handle.query<JobResult>(JOB_PROGRESS_QUERY))
        .catch(() => undefined);
    } else {
      result = await finishedResult(handle);
    }
    if (options.json) {
      console.log(JSON.stringify({ workflowId, runId: description.runId, status: description.status.name, steps, result: result ?? null }, null, 2));
      return;
    }
    const row = jobRow(description);
    // The summary the Web UI shows is Markdown (bold, code, backslash escapes: `koji\_build`); a
    // terminal gets the same line in plain words, from the job's search attributes.
    const summary = row.task && row.itemType && row.item && row.arch ? `${row.task} on ${row.itemType} ${row.item} (${row.arch})` : undefined;
    console.log(`Job:       ${workflowId}`);
    console.log(`Run:       ${description.runId}${description.runId !== history.events?.[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ? ' (a re-run)' : ''}`);
    if (summary) console.log(`What:      ${summary}`);
    console.log(`Status:    ${description.status.name}${row.closeTime ? ` after ${formatDuration(Date.parse(row.closeTime) - Date.parse(row.startTime))}` : ''}`);
    // A running job's snapshot says PASSED until something fails: it has no outcome yet.
    const outcome = running ? 'none yet (running)' : (result?.outcome ?? row.outcome ?? 'none');
    console.log(`Outcome:   ${outcome}${!running && result?.summary && result.summary !== result.outcome ? ` (${result.summary})` : ''}`);
    if (result?.reason) console.log(`Reason:    ${result.reason}`);
    if (row.host ?? result?.host) console.log(`Host:      ${result?.host ?? row.host}`);
    console.log(`Started:   ${row.startTime}${row.closeTime ? `, closed ${row.closeTime}` : ''}`);
    const link = uiUrl(namespace, workflowId, description.runId);
    if (link) console.log(`Web UI:    ${link}`);
    console.log('');
    console.log('Steps:');
    if (steps.length === 0) console.log('  (none yet)');
    else {
      console.log(
        table([
          ['  STEP', 'STATUS', 'TRY', 'TIME', 'QUEUED'],
          ...steps.map((step) => [
            `  ${stepLabel(step, result)}`,
            `${step.status}${step.failure ? `: ${step.failure.split('\n')[0]}` : ''}`,
            String(step.attempt),
            step.durationMs !== undefined ? formatDuration(step.durationMs) : '-',
            step.waitedMs !== undefined ? formatDuration(step.waitedMs) : '-',
          ]),
        ]),
      );
    }
    for (const r of result?.results ?? []) {
      if (r === result?.results[0]) console.log('\nResults:');
      console.log(`  ${r.outcome.padEnd(16)} ${r.testcase}  ${r.item}${r.note ? `  (${r.note})` : ''}${r.refUrl ? `  ${r.refUrl}` : ''}`);
    }
    const logs = (result?.actions ?? []).filter((a) => a.log);
    if (result?.artifacts || logs.length > 0) {
      console.log('\nArtifacts:');
      if (result?.artifacts) console.log(`  ${result.artifacts.host}:${result.artifacts.dir}`);
      for (const a of logs) console.log(`  [${a.index}] ${a.name}: ${a.log}`);
    }
    let tail = result?.logTail;
    let tailOf = 'the failed step';
    const lastLog = logs[logs.length - 1];
    if (!tail && lastLog?.log) {
      tail = await readLogTail(lastLog.log);
      tailOf = `[${lastLog.index}] ${lastLog.name}`;
    }
    if (tail) console.log(`\nLast log lines (${tailOf}):\n${tail.split('\n').map((l) => `  | ${l}`).join('\n')}`);
  });
}

async function rerunJob(workflowId: string, options: ConnectOptions & { reason?: string; force?: boolean }): Promise<void> {
  await withClient(options, async (client, namespace) => {
    const handle = await jobHandle(client, workflowId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING' && !options.force) {
      throw new JobsCommandError(`${workflowId} is still running: cancel it first (taskotron jobs cancel), or pass --force to restart it now`);
    }
    const history = await handle.fetchHistory();
    const resetPoint = firstWorkflowTaskCompleted(history.events ?? []);
    if (!resetPoint?.eventId) throw new JobsCommandError(`${workflowId} has not completed a workflow task yet: nothing to reset to`);
    const reason = options.reason ?? `taskotron jobs rerun by ${userInfo().username}@${hostname()}`;
    // The Web UI's Reset to the first workflow task: same ID and input, a new run; the old run stays.
    const response = await client.workflowService.resetWorkflowExecution({
      namespace,
      workflowExecution: { workflowId, runId: description.runId },
      reason,
      workflowTaskFinishEventId: resetPoint.eventId,
      requestId: randomUUID(),
    });
    console.log(`Re-running ${workflowId}: new run ${response.runId} (previous run ${description.runId} is kept)`);
    const link = uiUrl(namespace, workflowId, response.runId ?? '');
    if (link) console.log(`Web UI: ${link}`);
  });
}

interface RunOptions extends ConnectOptions {
  task: string;
  item: string;
  type: string;
  arch?: string;
  config?: string;
  taskRepo?: string;
  taskRef?: string;
  jobQueue?: string;
  wait?: boolean;
}

/** `forced-<uuid>/<task>/<arch>`: says it was forced, shaped like a message's `msg-<id>/<task>/<arch>`. */
export function forcedJobWorkflowId(uuid: string, task: string, arch: string): string {
  return `forced-${uuid}/${task}/${arch}`;
}

async function runJobs(options: RunOptions): Promise<void> {
  // --config (taskotron.yaml or a trigger.cfg) gives the task sources: ingest.task_repo, task_ref, job_queue.
  const config: IngestConfig = ingestConfig(configFromOptions(options));
  if (options.taskRepo) config.taskRepo = options.taskRepo;
  if (options.taskRef) config.taskRef = options.taskRef;
  if (options.jobQueue) config.jobQueue = options.jobQueue;
  const arches = options.arch ? options.arch.split(',').map((a) => a.trim()).filter(Boolean) : config.validArches;
  const by = `${userInfo().username}@${hostname()}`;
  // Only `jobs run` needs the ingest's task sources; loading the ingest (worker, ZeroMQ, AMQP) for
  // every `jobs list` would double the CLI's start.
  const { taskSource } = await import('../ingest/service.js');
  await withClient(options, async (client) => {
    const started: Array<{ workflowId: string; handle: WorkflowHandle }> = [];
    for (const arch of arches) {
      const uuid = randomUUID();
      const input: JobInput = {
        task: options.task,
        source: taskSource(config, options.task),
        item: options.item,
        itemType: options.type,
        arch,
        uuid,
        // As ingest does: arch-independent jobs take any host of the first valid arch.
        ...(arch === 'noarch' ? { pool: runnerQueue(config.validArches[0] ?? 'x86_64') } : {}),
      };
      const workflowId = forcedJobWorkflowId(uuid, options.task, arch);
      const handle = await client.workflow.start(JOB_WORKFLOW, {
        workflowId,
        taskQueue: config.jobQueue,
        args: [input],
        typedSearchAttributes: [
          { key: TaskName, value: input.task },
          { key: Item, value: input.item },
          { key: ItemType, value: input.itemType },
          { key: Arch, value: arch },
        ],
        staticSummary: jobSummary(input),
        staticDetails: jobStartDetails(input, { kind: 'forced', by }),
      });
      console.log(`Started ${workflowId} (${options.task} on ${options.type} ${options.item}, ${arch})`);
      started.push({ workflowId, handle });
    }
    if (!options.wait) return;
    for (const { workflowId, handle } of started) {
      const result = await finishedResult(handle);
      console.log(`${workflowId}: ${result?.outcome ?? (await handle.describe()).status.name}${result?.reason ? ` — ${result.reason}` : ''}`);
      if (!result || !['PASSED', 'INFO'].includes(result.outcome)) process.exitCode = 1;
    }
  });
}

async function cancelJob(workflowId: string, options: ConnectOptions): Promise<void> {
  await withClient(options, async (client) => {
    const handle = await jobHandle(client, workflowId);
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') throw new JobsCommandError(`${workflowId} is not running (${description.status.name})`);
    await handle.cancel();
    console.log(`Cancel requested for ${workflowId} (run ${description.runId}): its running command is killed and it ends ABORTED`);
  });
}

/** What each `jobs` subcommand does; expected failures become one line and exit code 1. */
export const JOBS_SUBCOMMANDS = {
  list: action(listJobs),
  show: action(showJob),
  rerun: action(rerunJob),
  run: action(runJobs),
  cancel: action(cancelJob),
};
