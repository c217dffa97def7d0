// Optional bus output: with a result bus configured, every reported result is announced as a
// `taskotron.result.new` fedmsg shaped like the original's (corpus sample), on a real ZeroMQ socket.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Subscriber } from 'zeromq';
import { createReportingActivities, type ReportOutput } from '../../src/activities/report.js';
import { freePort } from '../../src/devserver/server.js';
import { closeResultBus, publishResults } from '../../src/results/bus-output.js';
import { openAmqp } from '../../src/bus/amqp.js';
import { testAmqpUrl } from '../support/amqp.js';
import { corpusPath } from '../support/corpus.js';
import { ensurePythonFedoraMessaging } from '../ingest/python-fedora-messaging.js';
import { startResultsDBServer } from '../support/resultsdb-server.js';

after(async () => closeResultBus());

const execFileAsync = promisify(execFile);

/** Every key path of a JSON value: same shape means same paths. */
function shape(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => shape(inner, prefix ? `${prefix}.${key}` : key)).sort();
}

test('reported results are published as taskotron.result.new messages shaped like the original', async () => {
  const server = await startResultsDBServer();
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const subscriber = new Subscriber();
  try {
    const activities = createReportingActivities({
      resultsdbUrl: server.url,
      namespaces: { safe: ['scratch'], whitelist: {} },
      resultBus: { bind: endpoint, topic: 'org.fedoraproject.dev.taskotron.result.new' },
    });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'job-1', runId: 'run-1' }, workflowNamespace: 'default' }, { logger: new DefaultLogger('ERROR') });
    const job = { uuid: randomUUID(), task: 'nvr-sanity', item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', namespace: 'scratch', artifactsdir: mkdtempSync(join(tmpdir(), 'bus-')) };
    const results = `results:\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: PASSED, checkname: nvr-sanity}\n  - {item: foo-1.0-1.fc40, type: koji_build, outcome: FAILED, checkname: nvr-sanity.release}\n`;

    // The publisher binds on the first report; connect and subscribe while it waits for us.
    const reporting = env.run(activities.reportResults, { results, job });
    subscriber.connect(endpoint);
    subscriber.subscribe('org.fedoraproject.dev.taskotron.result.new');
    const output = (await reporting) as ReportOutput;
    assert.equal(output.reported.length, 2);

    const received: Record<string, unknown>[] = [];
    const iterator = subscriber[Symbol.asyncIterator]();
    while (received.length < 2) {
      const { value } = await iterator.next();
      const [topic, body] = value as Buffer[];
      assert.equal(topic!.toString(), 'org.fedoraproject.dev.taskotron.result.new');
      received.push(JSON.parse(body!.toString()) as Record<string, unknown>);
    }
    const sample = JSON.parse(readFileSync(corpusPath('fedmsg', 'taskotron.result.new__TestTaskotronResultNew.json'), 'utf8')) as unknown;
    for (const message of received) assert.deepEqual(shape(message), shape(sample));
    const [first, second] = received as { msg: { result: { id: string; outcome: string; job_url: string }; task: Record<string, string> }; msg_id: string }[];
    assert.deepEqual(first!.msg.task, { item: 'foo-1.0-1.fc40', name: 'scratch.nvr-sanity', type: 'koji_build' });
    assert.equal(first!.msg.result.outcome, 'PASSED');
    assert.equal(first!.msg.result.id, String(output.reported[0]!.id));
    assert.match(first!.msg.result.job_url, /\/namespaces\/default\/workflows\/job-1\/run-1\/history$/);
    assert.deepEqual(second!.msg.task.name, 'scratch.nvr-sanity.release');
    assert.equal(second!.msg.result.outcome, 'FAILED');
    assert.match(first!.msg_id, /^\d{4}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(first!.msg_id, second!.msg_id);
  } finally {
    subscriber.close();
    await server.close();
  }
});

test('a result bus that could not bind is tried again at the next report, not given up for the process', async () => {
  const port = await freePort();
  const endpoint = `tcp://127.0.0.1:${port}`;
  const topic = 'org.fedoraproject.dev.taskotron.result.new';
  const job = { uuid: randomUUID(), task: 'nvr-sanity', item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', artifactsdir: mkdtempSync(join(tmpdir(), 'bus-')) };
  const result = { testcase: 'scratch.nvr-sanity', item: 'foo-1.0-1.fc40', type: 'koji_build', outcome: 'PASSED' as const };
  // Something else holds the address when the first job reports.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  await assert.rejects(publishResults({ bind: endpoint, topic }, [result], job));
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
  // The next job binds: its result reaches a subscriber.
  const subscriber = new Subscriber();
  try {
    const publishing = publishResults({ bind: endpoint, topic }, [result], job);
    subscriber.connect(endpoint);
    subscriber.subscribe(topic);
    assert.equal(await publishing, 1);
    const { value } = await subscriber[Symbol.asyncIterator]().next();
    const [, body] = value as Buffer[];
    assert.equal((JSON.parse(body!.toString()) as { msg: { task: { name: string } } }).msg.task.name, 'scratch.nvr-sanity');
  } finally {
    subscriber.close();
  }
});

test('with results_bus.amqp the same messages go through the broker as fedora-messaging publishes them', async () => {
  const server = await startResultsDBServer();
  const model = await openAmqp({ url: testAmqpUrl() });
  try {
    const channel = await model.createChannel();
    // A private queue bound before anything is published: the broker keeps what arrives for it.
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const topic = `org.fedoraproject.dev.taskotron.result.new.${randomUUID().slice(0, 8)}`;
    await channel.bindQueue(queue, 'amq.topic', topic);
    const activities = createReportingActivities({
      resultsdbUrl: server.url,
      namespaces: { safe: ['scratch'], whitelist: {} },
      resultBus: { topic, amqp: { url: testAmqpUrl() } },
    });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'job-2', runId: 'run-2' }, workflowNamespace: 'default' }, { logger: new DefaultLogger('ERROR') });
    const job = { uuid: randomUUID(), task: 'rpmlint', item: 'bar-2.0-1.fc41', itemType: 'koji_build', arch: 'x86_64', namespace: 'scratch', artifactsdir: mkdtempSync(join(tmpdir(), 'bus-')) };
    const output = (await env.run(activities.reportResults, { results: 'results:\n  - {item: bar-2.0-1.fc41, type: koji_build, outcome: PASSED, checkname: rpmlint}\n', job })) as ReportOutput;
    assert.equal(output.reported.length, 1);
    const message = await channel.get(queue, { noAck: true });
    assert.ok(message, 'one message on the broker');
    assert.equal(message.fields.routingKey, topic);
    const { properties } = message;
    assert.equal(properties.contentType, 'application/json');
    assert.equal(properties.contentEncoding, 'utf-8');
    assert.equal(properties.deliveryMode, 2);
    assert.match(String(properties.messageId), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(properties.headers?.fedora_messaging_schema, 'taskotron.result.new');
    assert.equal(properties.headers?.fedora_messaging_severity, 20);
    assert.match(String(properties.headers?.['sent-at']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    // The body is the fedmsg envelope's `msg`, in json.dumps' default spacing.
    const text = message.content.toString('utf8');
    assert.match(text, /^\{"result": \{"id": /);
    const sample = JSON.parse(readFileSync(corpusPath('fedmsg', 'taskotron.result.new__TestTaskotronResultNew.json'), 'utf8')) as { msg: unknown };
    assert.deepEqual(shape(JSON.parse(text)), shape(sample.msg));
    assert.equal((JSON.parse(text) as { task: { name: string } }).task.name, 'scratch.rpmlint');
  } finally {
    await model.close();
    await server.close();
  }
});

// The other side of the wire: a Fedora consumer reads our result with the real Python fedora-messaging
// library, which validates headers and body on the way in and refuses what a misbehaving publisher sends.
test('a consumer using the real fedora-messaging library accepts the published result and reads it back', { timeout: 300_000 }, async () => {
  const python = await ensurePythonFedoraMessaging();
  const server = await startResultsDBServer();
  const model = await openAmqp({ url: testAmqpUrl() });
  const queue = `taskotron-result-consumer-${randomUUID().slice(0, 8)}`;
  const topic = `org.fedoraproject.dev.taskotron.result.new.${randomUUID().slice(0, 8)}`;
  try {
    // Declared and bound before anything is published (the script re-declares it with the same settings).
    const channel = await model.createChannel();
    await channel.assertQueue(queue, { durable: false, autoDelete: false, exclusive: false });
    await channel.bindQueue(queue, 'amq.topic', topic);
    const activities = createReportingActivities({
      resultsdbUrl: server.url,
      namespaces: { safe: ['scratch'], whitelist: {} },
      resultBus: { topic, amqp: { url: testAmqpUrl() } },
    });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'job-3', runId: 'run-3' }, workflowNamespace: 'default' }, { logger: new DefaultLogger('ERROR') });
    const job = { uuid: randomUUID(), task: 'rpmlint', item: 'baz-3.0-1.fc41', itemType: 'koji_build', arch: 'x86_64', namespace: 'scratch', artifactsdir: mkdtempSync(join(tmpdir(), 'bus-')) };
    const output = (await env.run(activities.reportResults, { results: 'results:\n  - {item: baz-3.0-1.fc41, type: koji_build, outcome: FAILED, checkname: rpmlint}\n', job })) as ReportOutput;
    assert.equal(output.reported.length, 1);

    const script = join(dirname(fileURLToPath(import.meta.url)), 'fedora_messaging_consume.py');
    const { stdout } = await execFileAsync(python, [script, testAmqpUrl(), queue, topic, '30'], { timeout: 120_000 });
    const read = JSON.parse(stdout.trim()) as { topic: string; id: string; severity: number; schema: string; headers: Record<string, unknown>; body: { task: { name: string; item: string }; result: { outcome: string; id: string } } };
    assert.equal(read.topic, topic);
    assert.equal(read.severity, 20, 'INFO, as the header says');
    assert.equal(read.schema, 'taskotron.result.new');
    assert.match(read.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(read.body.task.name, 'scratch.rpmlint');
    assert.equal(read.body.task.item, 'baz-3.0-1.fc41');
    assert.equal(read.body.result.outcome, 'FAILED');
    assert.equal(read.body.result.id, String(output.reported[0]!.id));
  } finally {
    await model.close().catch(() => undefined);
    const cleanup = await openAmqp({ url: testAmqpUrl() });
    await (await cleanup.createChannel()).deleteQueue(queue).catch(() => undefined);
    await cleanup.close();
    await server.close();
  }
});
