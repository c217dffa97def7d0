// Scenario: `taskotron ingest` consuming fedora-messaging (TASKOTRON_TEST_AMQP_URL, the harness's
// RabbitMQ) is killed with SIGKILL in the middle of a burst of 10,000 matched messages. After a
// restart every message has exactly one trigger workflow, counted by a visibility query, none
// missing: what was not acked comes back from the broker, and what had already started is refused
// by Temporal as a duplicate. The trigger queue has no worker: only the starts are under test.
// 10,000 starts would keep the harness's shared server busy for minutes and starve the test files
// running beside this one, so this file runs its own Temporal dev server.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { fedoraMessagingJson, openAmqp, sentAtHeader } from '../../src/bus/amqp.js';
import { ensureTemporalCli } from '../../src/devserver/cli-binary.js';
import { projectRoot } from '../../src/devserver/project.js';
import { startDevServer, type DevServer } from '../../src/devserver/server.js';
import { queueDepth, testAmqpUrl } from '../support/amqp.js';
import { uniqueName } from '../support/temporal.js';
import { corpusMessage } from '../ingest/corpus.js';
import { scratchDir, until } from '../ingest/support.js';

let server: DevServer;
let client: Client;
let connection: Connection;
before(async () => {
  server = await startDevServer({ binary: ensureTemporalCli() });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
});
after(async () => {
  await connection.close();
  await server.stop();
});

const MESSAGES = 10_000;
const TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';

/** Declares the queue ingest will consume and fills it, with publisher confirms, as fast as the broker takes it. */
async function fill(queue: string, n: number): Promise<string[]> {
  const model = await openAmqp({ url: testAmqpUrl() });
  try {
    const channel = await model.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true, autoDelete: false, exclusive: false });
    await channel.bindQueue(queue, 'amq.topic', 'org.fedoraproject.prod.buildsys.#');
    const body = Buffer.from(fedoraMessagingJson(corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg));
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      const headers = { fedora_messaging_schema: 'koji_fedoramessaging.build.BuildStateChangeV1', fedora_messaging_severity: 20, 'sent-at': sentAtHeader(new Date()) };
      if (!channel.publish('amq.topic', TOPIC, body, { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, messageId: id, headers })) {
        await new Promise((resolve) => channel.once('drain', resolve));
      }
    }
    await channel.waitForConfirms();
    return ids;
  } finally {
    await model.close();
  }
}

function startIngest(dir: string, queue: string, triggerQueue: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'ingest', '--rules', join(dir, 'trigger_rules.yml'), '--source', 'amqp', '--amqp-url', testAmqpUrl(), '--amqp-queue', queue,
      '--amqp-binding', 'org.fedoraproject.prod.buildsys.#', '--amqp-prefetch', '100', '--trigger-queue', triggerQueue, '--ingest-queue', triggerQueue, '--job-queue', triggerQueue,
      '--state-dir', join(dir, 'state'), '--stats-interval', '1'],
    { cwd: projectRoot(), env: { ...process.env, TEMPORAL_ADDRESS: server.address }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The newest counters the child logged (a field of its JSON log lines). */
function lastCounters(output: string): Record<string, number> {
  const lines = output.split('\n').filter((l) => l.startsWith('{') && l.includes('"counters":{'));
  return lines.length === 0 ? {} : ((JSON.parse(lines.at(-1)!) as { counters: Record<string, number> }).counters);
}

test('kill -9 during a burst of 10,000 AMQP messages: after a restart exactly one trigger workflow each', { timeout: 600_000 }, async () => {
  const dir = scratchDir('amqp-crash');
  writeFileSync(join(dir, 'trigger_rules.yml'), '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n');
  const queue = uniqueName('amqp-crash');
  const triggerQueue = uniqueName('amqp-crash-triggers');
  const ids = await fill(queue, MESSAGES);
  const query = `WorkflowType = "triggerJobs" AND TaskQueue = "${triggerQueue}"`;

  const first = startIngest(dir, queue, triggerQueue);
  try {
    // Killed once it has started a good part of the burst, with more delivered and in flight.
    await until(() => (lastCounters(first.output()).started ?? 0) >= 2000, `the first ingest to start 2000:\n${first.output().slice(-2000)}`, 240_000);
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
  }
  const killedAt = lastCounters(first.output()).started ?? 0;
  assert.ok(killedAt < MESSAGES, `killed mid-burst (${killedAt} started)`);

  const second = startIngest(dir, queue, triggerQueue);
  try {
    await until(async () => (await queueDepth(queue)).ready === 0 && lastCounters(second.output())['amqp.unacked'] === 0 && (lastCounters(second.output()).pending ?? 1) === 0,
      `the second ingest to drain the queue:\n${second.output().slice(-2000)}`, 400_000);
    const stats = lastCounters(second.output());
    assert.ok((stats['already-started'] ?? 0) >= 1 || killedAt === 0, `redeliveries of started messages are refused by Temporal: ${JSON.stringify(stats)}`);
    await until(async () => (await client.workflow.count(query)).count === MESSAGES, 'the visibility count to reach 10,000', 120_000);
    const seen = new Set<string>();
    for await (const w of client.workflow.list({ query })) {
      assert.ok(!seen.has(w.workflowId), `one trigger per message: ${w.workflowId} twice`);
      seen.add(w.workflowId);
    }
    assert.equal(seen.size, MESSAGES);
    for (const id of ids) assert.ok(seen.has(`msg-${id}`), `msg-${id} missing`);
  } finally {
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().slice(-2000));
  }
});
