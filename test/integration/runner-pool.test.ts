// A real workflow with real activities on the harness's real Temporal server: the probe claims a
// host through the arch's shared queue, then runs its next step on that host's own queue.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostQueue } from '../../src/common/queues.js';
import { createRunnerWorker, type RunnerWorker } from '../../src/worker/runner-worker.js';
import type { probeRunnerPool } from '../../src/workflows/probe.js';
import { quietRuntime } from '../support/runtime.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';

quietRuntime();

describe('runner pool on a real Temporal server', () => {
  const arch = uniqueName('arch');
  const workflowQueue = uniqueName('workflows');
  let worker: RunnerWorker;
  let running: Promise<void>;

  before(async () => {
    worker = await createRunnerWorker({
      temporal: { address: testAddress(), namespace: 'default' },
      arch,
      hostname: 'builder-01',
      workflowQueue,
      workflowsOnMainThread: true,
      shutdownGraceMs: 1000,
    });
    running = worker.run();
  });

  after(async () => {
    worker.shutdown();
    await running;
  });

  test('the worker polls the workflow queue, the arch pool queue and its own host queue', () => {
    assert.deepEqual(worker.queues, [workflowQueue, `runner-${arch}`, `runner-${arch}@builder-01`]);
  });

  test('a probe job claims a host from the pool and runs its next step on that host', async () => {
    const { client, close } = await testClient();
    try {
      const workflowId = uniqueName('probe');
      const result = await client.workflow.execute<typeof probeRunnerPool>('probeRunnerPool', {
        taskQueue: workflowQueue,
        workflowId,
        args: [{ arch }],
        workflowExecutionTimeout: '1 minute',
      });
      assert.equal(result.hostname, 'builder-01');
      assert.equal(result.taskQueue, hostQueue(arch, 'builder-01'));
      assert.equal(result.pid, process.pid);
      console.log(`# ran workflow ${workflowId} on the Temporal server at ${testAddress()}`);
    } finally {
      await close();
    }
  });
});
