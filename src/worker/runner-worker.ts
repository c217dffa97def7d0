// A runner host's worker process: three Temporal workers sharing one connection.
//  - WORKFLOW_QUEUE: job workflow code (cheap, any host can run it);
//  - runner-<arch>: `holdSlot` (one per job this host holds, at most `concurrency`), so the arch's
//    pool hands a job only to a host with a free slot; jobs beyond the pool's capacity wait there;
//  - runner-<arch>@<host>: every step of the jobs this host holds (one step per job at a time).
import { hostname as osHostname } from 'node:os';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { createRunnerActivities } from '../activities/index.js';
import { SLOT_ENDING_HEARTBEAT_MS } from '../activities/host.js';
import { defaultRunnerConfig, type RunnerConfig } from '../activities/runner-config.js';
import { stopSpawner } from '../activities/spawner.js';
import { bundleEntry, freshPrebuiltBundle, workflowBundleOptions } from './bundle.js';
import { MAIN_THREAD_WORKFLOWS } from './workflow-thread.js';
import type { RunnerMetrics } from './metrics.js';
import { reportingConfigFromEnv, type ReportingConfig } from '../results/config.js';
import { WORKFLOW_QUEUE, hostQueue, runnerQueue } from '../common/queues.js';
import { connectionOptions, type TemporalSettings } from '../config/temporal.js';

export interface RunnerWorkerOptions {
  temporal: TemporalSettings;
  arch: string;
  hostname?: string;
  /** Jobs this host runs at once (its slots). */
  concurrency?: number;
  /** How long running steps may finish after a shutdown request before they are cancelled. */
  shutdownGraceMs?: number;
  /** How long a job's workflow task waits for this host, which ran its workflow last, before any runner takes it (default 10 s). */
  workflowFailoverMs?: number;
  /** Poll the shared workflow queue too (default). A pure execution host can turn it off. */
  runWorkflows?: boolean;
  /** The workflow queue; tests give each worker its own so parallel test files stay apart. */
  workflowQueue?: string;
  /** The arch pool's queue; default runner-<arch>. `runtask` uses a private pool. */
  poolQueue?: string;
  /** Disk layout and permissions of this host (defaults: defaultRunnerConfig()). */
  runner?: Partial<RunnerConfig>;
  /** Where results go (default: reportingConfigFromEnv(); no ResultsDB URL → results.yml files). */
  reporting?: ReportingConfig;
  /** Time every step and count busy slots (src/worker/metrics.ts). */
  metrics?: RunnerMetrics;
  /**
   * Extra SDK worker options for the workflow worker and the host's step worker, laid over ours; for
   * benches that compare worker tunings in one process (bench/worker-options.bench.ts).
   */
  tuning?: { workflow?: Partial<WorkerOptions>; host?: Partial<WorkerOptions> };
  /**
   * Run the job workflows' code on this process's main thread, not on the SDK's workflow thread
   * (workflow-thread.ts). For a process that runs a job or a few and exits (`runtask`, a test file's
   * runners): the thread costs about 0.4 s of a `runtask`'s 1.8 s of CPU. A long-lived runner keeps it.
   */
  workflowsOnMainThread?: boolean;
}

export interface RunnerWorker {
  hostname: string;
  runner: RunnerConfig;
  queues: string[];
  /** Where the job workflows' code runs and how long one activation may take (none when this host runs no workflows). */
  workflowThread?: { mainThread: boolean; activationLimitMs: number };
  run(): Promise<void>;
  shutdown(): void;
}

/** The workflows entry point beside this module: .js when compiled, .ts when run through tsx. */
export function workflowsPath(): string {
  return bundleEntry('workflows');
}

let bundle: Promise<WorkflowBundleOption> | undefined;

/**
 * Bundled once per process (tests start several workers and the bundle takes seconds), or prebuilt:
 * by `npm run build`, or by the test harness once for all test files (TASKOTRON_WORKFLOW_BUNDLE).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  const prebuilt = process.env.TASKOTRON_WORKFLOW_BUNDLE || freshPrebuiltBundle('workflows');
  bundle ??= prebuilt ? Promise.resolve({ codePath: prebuilt }) : bundleWorkflowCode(workflowBundleOptions(workflowsPath()));
  return bundle;
}

/** Runner workers of this process whose run() has not returned yet. */
let runningRunners = 0;

export async function createRunnerWorker(options: RunnerWorkerOptions): Promise<RunnerWorker> {
  const hostname = options.hostname ?? osHostname();
  const concurrency = options.concurrency ?? 2;
  const shutdownGraceTime = options.shutdownGraceMs ?? 30_000;
  const connection = await NativeConnection.connect(connectionOptions(options.temporal));
  const runner: RunnerConfig = { ...defaultRunnerConfig(), ...options.runner };
  const activities = createRunnerActivities({ arch: options.arch, hostname }, runner, options.reporting ?? reportingConfigFromEnv());
  const common = { connection, namespace: options.temporal.namespace, shutdownGraceTime, identity: `${process.pid}@${hostname}` };

  const workers: Worker[] = [];
  if (options.runWorkflows !== false) {
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: options.workflowQueue ?? WORKFLOW_QUEUE,
        workflowBundle: await workflowBundle(),
        // A job's workflow stays cached on the host that ran it last; if that host dies, its next task
        // waits this long for it before going to any runner.
        ...(options.workflowFailoverMs !== undefined ? { stickyQueueScheduleToStartTimeout: options.workflowFailoverMs } : {}),
        ...(options.workflowsOnMainThread ? MAIN_THREAD_WORKFLOWS : {}),
        ...options.tuning?.workflow,
      }),
    );
  }
  workers.push(
    await Worker.create({
      ...common,
      taskQueue: options.poolQueue ?? runnerQueue(options.arch),
      activities: { holdSlot: activities.holdSlot, claimHost: activities.claimHost },
      // One running holdSlot per job this host holds: a host with no free slot takes no job, and the
      // job waits in the arch queue for whichever host frees one first.
      maxConcurrentActivityTaskExecutions: concurrency,
      // A job's release (cancelling its slot) reaches the host with the next heartbeat's answer:
      // holdSlot paces its own beats (every 2 s, every 100 ms once the job's last step here has run,
      // see slot-endings.ts), so the worker must let them through at that pace.
      maxHeartbeatThrottleInterval: SLOT_ENDING_HEARTBEAT_MS,
    }),
    await Worker.create({
      ...common,
      taskQueue: hostQueue(options.arch, hostname),
      activities,
      // Each held job runs one step at a time, so steps never queue behind a busy host.
      maxConcurrentActivityTaskExecutions: concurrency,
      ...(options.metrics ? { interceptors: { activity: [options.metrics.interceptor] } } : {}),
      // Cancellation reaches a running step only with a heartbeat's answer: send them often enough
      // that a cancelled job's processes die within seconds, not after 0.8 × heartbeatTimeout.
      maxHeartbeatThrottleInterval: '2 seconds',
      ...options.tuning?.host,
    }),
  );
  const queues = workers.map((worker) => worker.options.taskQueue);
  const workflowOptions = options.runWorkflows !== false ? workers[0]!.options : undefined;
  return {
    hostname,
    runner,
    queues,
    ...(workflowOptions ? { workflowThread: { mainThread: workflowOptions.debugMode, activationLimitMs: workflowOptions.isolateExecutionTimeoutMs } } : {}),
    async run() {
      runningRunners++;
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        // The spawner (and the sandboxes it keeps waiting) serves every runner of this process; the
        // last one to stop takes it down, so an embedded runner (npm start, runtask, tests) leaves no
        // process behind. Its steps have all ended by now: run() resolves after the grace time.
        if (--runningRunners === 0) stopSpawner();
        await connection.close();
      }
    },
    shutdown() {
      for (const worker of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
    },
  };
}
