// Where a worker runs workflow code. The SDK's default is a workflow thread per Worker: a second Node
// environment that loads the SDK's modules and protos again (about 0.4 s of CPU and 40–50 MB). A
// long-lived runner or ingest keeps it, so a slow activation never holds up the main thread's
// heartbeats and step processes. A process that runs a few workflows and exits (`runtask`; a test
// file's in-process workers) spares it: docs/PERFORMANCE.md, "The test suite".
import type { WorkerOptions } from '@temporalio/worker';

/**
 * Worker options that run workflow code on the process's main thread. The SDK's switch for it is
 * `debugMode`, which also lifts the limit on one activation's run time. `isolateExecutionTimeout`
 * (not in the SDK's public `WorkerOptions`, but read from them) puts back the SDK's default of 5 s,
 * so a workflow stuck in a loop still fails its workflow task as it does on the thread.
 * test/job/job-workflow.test.ts holds the SDK to both.
 */
export const MAIN_THREAD_WORKFLOWS = { debugMode: true, isolateExecutionTimeout: '5 seconds' } as Partial<WorkerOptions>;
