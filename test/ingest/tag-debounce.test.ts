// KojiTagChanged is debounced per tag by fuse_delay with a Temporal timer: a burst of tag messages
// gives one job set after the tag has been quiet, and the wait survives the ingest going away.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import type { JobInput } from '../../src/common/job.js';
import type { TriggerResult } from '../../src/workflows/trigger.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { corpusEnvelope } from './corpus.js';
import { publishTo, scratchDir, startTestIngest, until } from './support.js';

let client: Client;
let close: () => Promise<void>;
before(async () => {
  quietRuntime();
  ({ client, close } = await testClient());
});
after(async () => close());

const rules = '- when: {message_type: KojiTagChanged}\n  do: [{tasks: [rpmdeplint], arches: [x86_64]}]\n';
const tagMessage = (tag: string, name: string, timestamp = 1_764_316_800) => {
  const envelope = corpusEnvelope('buildsys.tag__TestKojiBuildTag.json', `2026-${crypto.randomUUID()}`);
  return { ...envelope, timestamp, msg: { ...envelope.msg, tag, name } };
};
type Debounced = TriggerResult & { tag: string; coalesced: string[] };

test('a burst of tag changes starts one job set per tag, after fuse_delay of quiet, from the newest message', { timeout: 60_000 }, async () => {
  const tagA = `f40-updates-testing-pending-${crypto.randomUUID().slice(0, 6)}`;
  const tagB = `f41-updates-pending-${crypto.randomUUID().slice(0, 6)}`;
  const burst = [tagMessage(tagA, 'bash', 1_764_316_800), tagMessage(tagA, 'zsh', 1_764_316_801), tagMessage(tagA, 'fish', 1_764_316_802)];
  const other = tagMessage(tagB, 'vim');
  const ingest = await startTestIngest(rules, { fuseDelaySeconds: 2 });
  try {
    await publishTo(ingest.endpoint, [burst[0]!, other]);
    await new Promise((r) => setTimeout(r, 700));
    await publishTo(ingest.endpoint, [burst[1]!]);
    await new Promise((r) => setTimeout(r, 700));
    await publishTo(ingest.endpoint, [burst[2]!]);
    const lastPublished = Date.now();
    for (const m of [...burst, other]) {
      const trigger: TriggerResult = await client.workflow.getHandle(`msg-${m.msg_id}`).result();
      assert.equal(trigger.debouncedBy, `koji-tag-${m.msg.tag}`);
      assert.deepEqual(trigger.jobs, []);
    }
    const a: Debounced = await client.workflow.getHandle(`koji-tag-${tagA}`).result();
    assert.ok(Date.now() - lastPublished >= 1900, 'the jobs wait for fuse_delay after the last change');
    assert.deepEqual([...a.coalesced].sort(), burst.map((m) => m.msg_id).sort());
    assert.deepEqual(a.jobs.map((j) => j.workflowId), [`msg-${burst[2]!.msg_id}/rpmdeplint/x86_64`]);
    const input = (await client.workflow.getHandle(a.jobs[0]!.workflowId).result()) as JobInput;
    assert.equal(input.item, tagA);
    assert.equal(input.itemType, 'koji_tag');
    const b: Debounced = await client.workflow.getHandle(`koji-tag-${tagB}`).result();
    assert.deepEqual(b.jobs.map((j) => j.workflowId), [`msg-${other.msg_id}/rpmdeplint/x86_64`]);
    await client.workflow.getHandle(b.jobs[0]!.workflowId).result();
  } finally {
    await ingest.service.stop();
  }
});

test('the fuse_delay wait is a durable timer: jobs still start when ingest was down while it ran out', { timeout: 60_000 }, async () => {
  const tag = `f40-updates-pending-${crypto.randomUUID().slice(0, 6)}`;
  const message = tagMessage(tag, 'bash');
  const stateDir = scratchDir('ingest-debounce');
  const first = await startTestIngest(rules, { fuseDelaySeconds: 2 }, { stateDir });
  try {
    await publishTo(first.endpoint, [message]);
    await until(() => first.service.stats().started === 1, 'the trigger to start');
    await client.workflow.getHandle(`msg-${message.msg_id}`).result();
    await until(async () => (await client.workflow.getHandle(`koji-tag-${tag}`).describe().catch(() => undefined))?.status.name === 'RUNNING', 'the tag window to open');
  } finally {
    await first.service.stop();
  }
  // Nobody polls the queue while the timer runs out on the server.
  await new Promise((r) => setTimeout(r, 3000));
  const second = await startTestIngest(rules, { fuseDelaySeconds: 2 }, { stateDir, queue: first.queue });
  try {
    const result: Debounced = await client.workflow.getHandle(`koji-tag-${tag}`).result();
    assert.deepEqual(result.jobs.map((j) => j.workflowId), [`msg-${message.msg_id}/rpmdeplint/x86_64`]);
    await client.workflow.getHandle(result.jobs[0]!.workflowId).result();
  } finally {
    await second.service.stop();
  }
});
