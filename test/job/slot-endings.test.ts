// A held slot hears of its release promptly: once the job's last step on the host (removeWorkdir)
// has run, the job's holdSlot on the same host heartbeats at the fast pace, because only a
// heartbeat's answer brings the cancel that releases it. Activities run under
// MockActivityEnvironment (it records heartbeats); the client holdSlot signals with is a stand-in
// that only counts the claim. The slot tests (slots.test.ts, host-loss.test.ts) run the real thing.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createRunnerActivities } from '../../src/activities/index.js';
import { defaultRunnerConfig } from '../../src/activities/runner-config.js';
import { until } from '../support/until.js';

test("the job's last step on the host makes its slot beat at the fast pace until the job lets go", async () => {
  const activities = createRunnerActivities({ arch: 'x86_64', hostname: 'h1' }, { ...defaultRunnerConfig(), root: mkdtempSync(join(tmpdir(), 'slot-endings-')) });
  const run = { workflowId: 'job-1', runId: 'run-1' };
  let claims = 0;
  const stub = { workflow: { getHandle: () => ({ signal: async () => void claims++ }) }, withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn() };
  const client = stub as unknown as Client;
  const logger = new DefaultLogger('ERROR');
  const slot = new MockActivityEnvironment({ workflowExecution: run, activityId: 'slot-1', heartbeatTimeoutMs: 30_000 }, { logger, client });
  let beats = 0;
  slot.on('heartbeat', () => beats++);
  const held = slot.run(activities.holdSlot);
  await until('the host to claim the slot for its job', () => claims === 1, 15_000);

  // Another job's last step is not this job's: nothing changes for this slot.
  await new MockActivityEnvironment({ workflowExecution: { workflowId: 'job-2', runId: 'run-2' } }, { logger }).run(activities.removeWorkdir, { uuid: 'other' });
  const before = beats;
  await new MockActivityEnvironment({ workflowExecution: run }, { logger }).run(activities.removeWorkdir, { uuid: 'u1' });
  // The slow pace is one beat per 2 s; ten beats are the fast pace (bounded wait, no timing asserted).
  await until('ten beats after the last step', () => beats >= before + 10, 15_000);

  slot.cancel();
  await assert.rejects(held, CancelledFailure);
  const after = beats;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(beats, after, 'a released slot beats no more');
});

test('a slot asked to end itself ends once its own job\'s removeWorkdir has run here, and says so in its claim', async () => {
  const root = mkdtempSync(join(tmpdir(), 'slot-endings-'));
  const activities = createRunnerActivities({ arch: 'x86_64', hostname: 'h1' }, { ...defaultRunnerConfig(), root });
  const run = { workflowId: 'job-3', runId: 'run-3' };
  const claims: unknown[] = [];
  const stub = { workflow: { getHandle: () => ({ signal: async (_name: string, claim: unknown) => void claims.push(claim) }) }, withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn() };
  const logger = new DefaultLogger('ERROR');
  const slot = new MockActivityEnvironment({ workflowExecution: run, activityId: 'slot-1', heartbeatTimeoutMs: 30_000 }, { logger, client: stub as unknown as Client });
  let settled = false;
  const held = slot.run(activities.holdSlot, { endsAfterWorkdir: true }).finally(() => (settled = true));
  await until('the host to claim the slot for its job', () => claims.length === 1, 15_000);
  assert.deepEqual(claims[0], { slotId: 'slot-1', hostname: 'h1', taskQueue: 'runner-x86_64@h1', endsAfterWorkdir: true });

  // Another job's last step does not end this job's slot.
  await new MockActivityEnvironment({ workflowExecution: { workflowId: 'job-4', runId: 'run-4' } }, { logger }).run(activities.removeWorkdir, { uuid: 'other' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(settled, false, "another job's removeWorkdir left this slot held");

  await new MockActivityEnvironment({ workflowExecution: run }, { logger }).run(activities.removeWorkdir, { uuid: 'u3' });
  // Ends by itself, without a cancel: the job's release needs no round trip.
  await until('the slot to end by itself after its job\'s last step', () => settled, 15_000);
  await held;
});
