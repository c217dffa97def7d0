// Running real jobs in tests: an in-process runner worker on private queues and a scratch root. Its
// job workflows run on the test file's main thread, as `runtask`'s do: a file that runs a few jobs
// and exits would spend ~0.4 s of CPU and ~50 MB per runner on the SDK's workflow thread
// (src/worker/workflow-thread.ts). The thread that long-lived runners use is still what the
// `taskotron worker` processes of host-loss, start-stack and the CLI tests run, and what
// end-to-end.test.ts and job-workflow.test.ts ask for here (`workflowsOnMainThread: false`).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { JOB_WORKFLOW, type JobInput, type JobResult } from '../../src/common/job.js';
import { projectRoot } from '../../src/devserver/project.js';
import type { RunnerConfig } from '../../src/activities/runner-config.js';
import type { ReportingConfig } from '../../src/results/config.js';
import { createRunnerWorker, type RunnerWorker } from '../../src/worker/runner-worker.js';
import { testAddress, uniqueName } from './temporal.js';

export function fixtureTask(name: string): string {
  return resolve(projectRoot(), 'test', 'fixtures', 'tasks', name);
}

export interface TestRunner {
  worker: RunnerWorker;
  arch: string;
  workflowQueue: string;
  root: string;
  stop(): Promise<void>;
}

export async function startTestRunner(
  options: {
    hostname?: string;
    arch?: string;
    workflowQueue?: string;
    concurrency?: number;
    reporting?: ReportingConfig;
    address?: string;
    runner?: Partial<RunnerConfig>;
    /** Default true; false runs the job workflows on the SDK's workflow thread, as `taskotron worker` does. */
    workflowsOnMainThread?: boolean;
  } = {},
): Promise<TestRunner> {
  const arch = options.arch ?? uniqueName('arch');
  const workflowQueue = options.workflowQueue ?? uniqueName('workflows');
  const root = mkdtempSync(join(tmpdir(), 'taskotron-runner-'));
  const worker = await createRunnerWorker({
    temporal: { address: options.address ?? testAddress(), namespace: 'default' },
    arch,
    hostname: options.hostname ?? uniqueName('host'),
    workflowQueue,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.reporting ? { reporting: options.reporting } : {}),
    workflowsOnMainThread: options.workflowsOnMainThread ?? true,
    shutdownGraceMs: 1000,
    runner: { root, killGraceMs: 1000, ...options.runner },
  });
  const running = worker.run();
  return {
    worker,
    arch,
    workflowQueue,
    root,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

export function localJob(runner: Pick<TestRunner, 'arch'>, task: string, overrides: Partial<JobInput> = {}): JobInput {
  return {
    task,
    source: { kind: 'local', path: fixtureTask(task) },
    item: 'foo-1.0-1.fc40',
    itemType: 'koji_build',
    arch: runner.arch,
    uuid: uniqueName(task),
    ...overrides,
  };
}

/** Runs a job to its end; a crashed or aborted job's JobResult comes from its failure details. */
export async function runJobToEnd(client: Client, runner: TestRunner, input: JobInput): Promise<{ result: JobResult; failureType?: string; workflowId: string }> {
  const workflowId = uniqueName(`job-${input.task}`);
  const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: runner.workflowQueue, workflowId, args: [input] });
  try {
    return { result: (await handle.result()) as JobResult, workflowId };
  } catch (error) {
    if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure && error.cause.details?.[0]) {
      return { result: error.cause.details[0] as JobResult, failureType: error.cause.type ?? undefined, workflowId } as { result: JobResult; failureType?: string; workflowId: string };
    }
    throw error;
  }
}
