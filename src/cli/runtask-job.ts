// The run of `runtask` (runtask-command.ts is its command line, which loads this module once the
// options have passed their checks): find or start a Temporal server, run a runner worker in this
// process, start the job workflow, print its progress and outcome.
import { basename, dirname } from 'node:path';
import { connect } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { LogLevel } from '@temporalio/worker';
import { EXIT_CODES, JOB_PROGRESS_QUERY, JOB_WORKFLOW, type ActionRecord, type JobInput, type JobResult } from '../common/job.js';
import { connectionOptions, type TemporalSettings } from '../config/temporal.js';
import { temporalSettingsFromOptions } from './options.js';
import { jobStartDetails, jobSummary } from '../common/job-metadata.js';
import { ensureTemporalCli } from '../devserver/cli-binary.js';
import { startDevServer, waitForFrontend, type DevServer } from '../devserver/server.js';
import { serverNotReady } from './setup.js';
import type { RunnerConfig } from '../activities/runner-config.js';
import { installRuntimeLogger } from '../worker/logging.js';
import { createRunnerWorker } from '../worker/runner-worker.js';
import { reportingConfigFromEnv } from '../results/config.js';
import type { RuntaskOptions } from './runtask-command.js';

/** The original's default uuid: the UTC time, YYYYMMDD_HHMMSS_ffffff. */
function timestampUuid(now = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}_${pad(now.getUTCMilliseconds() * 1000, 6)}`;
}

function icon(status: ActionRecord['status']): string {
  return { passed: '✔', running: '▶', failed: '✖', cancelled: '⊘', 'timed out': '⏱', 'not run': '·' }[status];
}

function describeAction(action: ActionRecord): string {
  const duration = action.durationMs !== undefined ? ` ${(action.durationMs / 1000).toFixed(2)}s` : '';
  return `  ${icon(action.status)} [${action.index}] ${action.name} (${action.directive}) ${action.status}${duration}${action.error ? ` — ${action.error}` : ''}`;
}

/**
 * Whether anything accepts a TCP connection at a Temporal address (`host:port`, `[v6]:port`). Refused,
 * unroutable, unresolvable or silent for `timeoutMs`: nothing does.
 */
function acceptsConnections(address: string, timeoutMs: number): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function connectOrStartServer(options: RuntaskOptions, waitS: number, say: (line: string) => void): Promise<{ settings: TemporalSettings; server?: DevServer } | undefined> {
  const settings = temporalSettingsFromOptions(options);
  if (!options.ephemeral) {
    // Only an address where nothing listens means "no server": a server that is there but slow to
    // answer (a loaded machine, a remote cluster) is waited for. Falling back to an ephemeral server
    // then would run the job somewhere the author did not ask for, past the namespace check.
    if (await acceptsConnections(settings.address, 3000)) {
      try {
        await waitForFrontend(connectionOptions(settings), waitS * 1000);
      } catch (error) {
        say(`runtask: something accepts connections at ${settings.address}, but no Temporal server answered there within ${waitS} s (${(error as Error).message}).`);
        say(`runtask: check --address (or TEMPORAL_ADDRESS), give it longer with --wait-for-temporal, or give --ephemeral to run on a server of its own.`);
        return undefined;
      }
      const problem = await serverNotReady(settings);
      if (!problem) return { settings };
      say(`runtask: the Temporal server at ${settings.address} is not set up for taskotron: ${problem}.`);
      say(`runtask: run \`taskotron setup --address ${settings.address} --namespace ${settings.namespace}\` once, or give --ephemeral to run on a server of its own.`);
      return undefined;
    }
    say(`No Temporal server at ${settings.address} (nothing accepts connections there); starting an ephemeral one for this run.`);
  }
  const server = await startDevServer({ binary: ensureTemporalCli({ log: say }) });
  return { settings: { address: server.address, namespace: server.namespace }, server };
}

/** What runtask-command.ts checked and settled before loading this module. */
export interface PreparedRun {
  timeoutSeconds: number | undefined;
  /** Seconds a server that accepts connections may take to answer. */
  waitS: number;
  runnerDefaults: RunnerConfig;
  say: (line: string) => void;
}

/** Runs one job and returns runtask's exit code. */
export async function runJob(formula: string, options: RuntaskOptions, { timeoutSeconds, waitS, runnerDefaults, say }: PreparedRun): Promise<number> {
  // Ctrl-C must cancel the job, not shut the worker down under it (the job would wait for another host).
  installRuntimeLogger(options.debug ? 'DEBUG' : ('ERROR' as LogLevel), { handleSignals: false });
  const uuid = options.uuid ?? timestampUuid();
  const task = basename(dirname(formula));
  const connected = await connectOrStartServer(options, waitS, say);
  if (!connected) return EXIT_CODES.usage;
  const { settings, server } = connected;
  // A private pool and workflow queue: on a shared server no other runner may take this job, since
  // the task's working copy exists only on this machine.
  const privateQueue = `runtask-${hostname()}-${process.pid}-${uuid}`;
  const worker = await createRunnerWorker({
    temporal: settings,
    arch: options.arch,
    hostname: `${hostname()}-runtask-${process.pid}`,
    workflowQueue: privateQueue,
    poolQueue: privateQueue,
    concurrency: 1,
    shutdownGraceMs: 5000,
    // One job, then the process exits: a workflow thread would cost more to start than it spares.
    workflowsOnMainThread: true,
    runner: {
      ...(options.root ? { root: options.root } : {}),
      // The worker runs in this process, so a bare NAME takes runtask's own value.
      sandbox: { ...runnerDefaults.sandbox, env: [...runnerDefaults.sandbox.env, ...(options.env ?? [])] },
    },
    // The ephemeral server's Web UI is gone when the run ends: the ResultsDB group links the artifacts.
    ...(server ? { reporting: { ...reportingConfigFromEnv(), groupLink: 'artifacts' as const } } : {}),
  });
  const running = worker.run();
  const connection = await Connection.connect(connectionOptions(settings));
  const client = new Client({ connection, namespace: settings.namespace });
  const input: JobInput = {
    task,
    source: { kind: 'local', path: dirname(formula) },
    formula: basename(formula),
    item: options.item,
    itemType: options.type,
    arch: options.arch,
    uuid,
    pool: privateQueue,
    ...(timeoutSeconds ? { timeoutSeconds } : {}),
  };
  const workflowId = options.jobid ?? `runtask-${task}-${uuid}`;
  say(`runtask: ${task} on ${options.type} ${options.item} (${options.arch}), uuid ${uuid}`);
  say(`         workflow ${workflowId} on ${settings.address}${server ? ' (ephemeral server)' : ''}`);
  const handle = await client.workflow.start(JOB_WORKFLOW, {
    taskQueue: privateQueue,
    workflowId,
    args: [input],
    staticSummary: jobSummary(input),
    staticDetails: jobStartDetails(input, { kind: 'runtask', by: `${userInfo().username}@${hostname()}` }),
  });

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) {
      // A second Ctrl-C: the cancellation is not getting through (the server gone, say). Leave
      // rather than hang; the job's workers were in this process, so it cannot go on elsewhere.
      say(`runtask: interrupted again; exiting without waiting for the job (workflow ${workflowId} on ${settings.address}).`);
      process.exit(EXIT_CODES.aborted);
    }
    interrupted = true;
    say('runtask: cancelling the job… (Ctrl-C again to exit without waiting)');
    handle.cancel().catch((error: unknown) => say(`runtask: could not cancel the job: ${(error as Error).message}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Live progress: the job's own answer to the progress query, printed as actions change state.
  const printed = new Map<number, string>();
  const show = (snapshot: JobResult) => {
    for (const action of snapshot.actions) {
      const line = describeAction(action);
      if (action.status !== 'not run' && printed.get(action.index) !== line) {
        printed.set(action.index, line);
        console.log(line);
      }
    }
  };
  // One progress query at a time, and none left in flight when the connection closes: a query still
  // retrying after close() rejected with "Channel has been shut down" and turned exit 0 into 1.
  let lastSnapshot: JobResult | undefined;
  let inFlight: Promise<void> | undefined;
  const poll = () => {
    inFlight ??= handle
      .query<JobResult>(JOB_PROGRESS_QUERY)
      .then((snapshot) => {
        lastSnapshot = snapshot;
        show(snapshot);
      })
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
  };
  const poller = setInterval(poll, 250);

  let result: JobResult | undefined;
  let exitCode: number = EXIT_CODES.crashed;
  try {
    const finished = (await handle.result()) as JobResult;
    result = finished;
    exitCode = finished.exitCode;
  } catch (error) {
    if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure && error.cause.details?.[0]) {
      result = error.cause.details[0] as JobResult;
      exitCode = result.exitCode;
    } else if (error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure) {
      exitCode = EXIT_CODES.aborted;
      // A cancelled workflow returns nothing; its last state (outcome ABORTED, artifacts) answers the query.
      clearInterval(poller);
      await inFlight;
      result = (await handle.query<JobResult>(JOB_PROGRESS_QUERY).catch(() => undefined)) ?? lastSnapshot;
      if (result) result = { ...result, outcome: 'ABORTED', exitCode, reason: result.reason ?? 'the job was cancelled' };
      else say('runtask: the job was cancelled (ABORTED)');
    } else {
      say(`runtask: ${(error as Error).message}`);
    }
  } finally {
    clearInterval(poller);
    await inFlight;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (result) {
    show(result);
    console.log('');
    for (const r of result.results) console.log(`  ${r.outcome.padEnd(16)} ${r.testcase}  ${r.item}${r.note ? `  (${r.note})` : ''}`);
    if (result.results.length > 0) console.log('');
    for (const warning of result.warnings) console.log(`warning: ${warning}`);
    console.log(`Outcome:   ${result.outcome}${result.summary && result.summary !== result.outcome ? ` (${result.summary})` : ''}`);
    if (result.reason) console.log(`Reason:    ${result.reason}`);
    if (result.logTail) console.log(`Last log lines:\n${result.logTail.split('\n').map((l) => `  | ${l}`).join('\n')}`);
    if (result.artifacts) console.log(`Artifacts: ${result.artifacts.dir} (logs in taskotron/)`);
    console.log(`Exit code: ${exitCode}`);
  }
  worker.shutdown();
  await running;
  await connection.close();
  await server?.stop();
  return exitCode;
}

