// fedora-messaging (AMQP) into ingest, against a real RabbitMQ node (TASKOTRON_TEST_AMQP_URL, started
// by the harness) and the harness's Temporal: a delivery is acked only once its trigger workflow start
// is durable, malformed ones are rejected for good, and while Temporal cannot be reached nothing is
// acked and the prefetch bound holds the rest on the broker.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { AmqpPublisher, AmqpSource, decodeDelivery, fedoraMessagingJson, openAmqp, sentAtHeader } from '../../src/bus/amqp.js';
import type { IngestConfig } from '../../src/ingest/config.js';
import { DEFAULT_CONFIG } from '../../src/ingest/config.js';
import { consumers, queueDepth, privateExchange, testAmqpUrl } from '../support/amqp.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient, uniqueName } from '../support/temporal.js';
import { corpusMessage } from '../ingest/corpus.js';
import { startTestIngest, INGEST_WAIT_MS } from '../ingest/support.js';
import { until } from '../support/until.js';
import { temporalOutage } from './outage.js';

let client: Client;
let close: () => Promise<void>;
let publisher: AmqpPublisher;
let EXCHANGE: string;
before(async () => {
  quietRuntime();
  ({ client, close } = await testClient());
  ({ exchange: EXCHANGE, publisher } = await privateExchange('amqp-test-exchange'));
});
after(async () => {
  await publisher.close();
  await close();
});

const rules = '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n';
const buildBody = () => corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg as Record<string, unknown>;
const BUILD_TOPIC = 'org.fedoraproject.prod.buildsys.build.state.change';

function amqpConfig(queue: string, overrides: Partial<IngestConfig['amqp']> = {}): Partial<IngestConfig> {
  return {
    sources: ['amqp'],
    amqp: { ...DEFAULT_CONFIG.amqp, url: testAmqpUrl(), exchange: EXCHANGE, queue, bindings: ['org.fedoraproject.prod.buildsys.#'], tls: {}, ...overrides },
  };
}

async function publishBuilds(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await publisher.publish({ topic: BUILD_TOPIC, body: buildBody(), schema: 'koji_fedoramessaging.build.BuildStateChangeV1' }));
  return ids;
}

/** Publishes raw bytes with whatever properties a hostile or broken publisher sets. */
async function publishRaw(topic: string, body: Buffer, properties: Record<string, unknown>): Promise<void> {
  const model = await openAmqp({ url: testAmqpUrl() });
  try {
    const channel = await model.createConfirmChannel();
    await new Promise<void>((resolve, reject) => channel.publish(EXCHANGE, topic, body, properties, (error: unknown) => (error ? reject(error as Error) : resolve())));
  } finally {
    await model.close();
  }
}

test('fedora-messaging wire shape: json.dumps body, headers, id and sent-at decode to the envelope ingest reads', async () => {
  assert.equal(fedoraMessagingJson({ b: [1, 'ü'], a: { 'x:y': 'p, q' } }), '{"b": [1, "\\u00fc"], "a": {"x:y": "p, q"}}');
  assert.equal(sentAtHeader(new Date('2025-11-17T14:42:02.741Z')), '2025-11-17T14:42:02+00:00');
  const queue = uniqueName('amqp-decode');
  const source = new AmqpSource({ url: testAmqpUrl(), exchange: EXCHANGE, queue, bindings: ['org.fedoraproject.test.buildsys.tag'], prefetch: 5, maxMessageBytes: 1 << 20 });
  const got: unknown[] = [];
  const running = source.run((m) => {
    got.push(m.decoded);
    m.settlement?.ack();
  });
  try {
    await until('the consumer', async () => (await consumers(queue)) === 1, INGEST_WAIT_MS);
    const body = { tag: 'f40-updates-candidate', name: 'bash', build_id: 1 };
    const id = await publisher.publish({ topic: 'org.fedoraproject.test.buildsys.tag', body, schema: 'koji_fedoramessaging.tag.TagV1', severity: 10 }, new Date('2026-01-02T03:04:05Z'));
    await until('the delivery', () => got.length === 1, INGEST_WAIT_MS);
    assert.deepEqual(got[0], {
      ok: true,
      value: {
        topic: 'org.fedoraproject.test.buildsys.tag',
        msg_id: id,
        timestamp: Date.parse('2026-01-02T03:04:05Z') / 1000,
        msg: body,
        i: 0,
        headers: { fedora_messaging_schema: 'koji_fedoramessaging.tag.TagV1', fedora_messaging_severity: 10, 'sent-at': '2026-01-02T03:04:05+00:00' },
      },
    });
  } finally {
    await source.close();
    await running;
  }
  // A delivery without a message id cannot be deduplicated: refused as bad-shape.
  const fake = { content: Buffer.from('{}'), fields: { routingKey: 't' }, properties: { headers: {} } } as unknown as Parameters<typeof decodeDelivery>[0];
  assert.deepEqual(decodeDelivery(fake, 100), { ok: false, reason: 'bad-shape', detail: 'message_id: expected a non-empty string property' });
});

test('matched messages are acked once their trigger started; malformed ones are rejected without requeue and counted', { timeout: 120_000 }, async () => {
  const queue = uniqueName('amqp-ingest');
  const ingest = await startTestIngest(rules, amqpConfig(queue));
  try {
    await until('ingest to consume', async () => (await consumers(queue)) === 1, INGEST_WAIT_MS);
    const ids = await publishBuilds(3);
    await publishRaw(BUILD_TOPIC, Buffer.from('not json'), { messageId: randomUUID() });
    await publishRaw(BUILD_TOPIC, Buffer.from('{"name": "x"}'), {});
    await publisher.publish({ topic: 'org.fedoraproject.prod.buildsys.tag', body: { tag: 'f40', name: 'x', instance: 'primary' }, schema: 'koji_fedoramessaging.tag.TagV1' });
    await until('three trigger workflows', () => ingest.service.stats().started === 3, INGEST_WAIT_MS);
    await until('every delivery settled', () => ingest.service.stats()['amqp.unacked'] === 0, INGEST_WAIT_MS);
    const stats = ingest.service.stats();
    assert.equal(stats['received.amqp'], 6, JSON.stringify(stats));
    assert.equal(stats['rejected.not-json'], 1);
    assert.equal(stats['rejected.bad-shape'], 1);
    assert.equal(stats.unmatched, 1, 'a tagging no rule asks for: acked, not rejected');
    for (const id of ids) await client.workflow.getHandle(`msg-${id}`).result();
    // Nothing left and nothing coming back: acked and rejected deliveries are gone from the broker.
    assert.equal((await queueDepth(queue)).ready, 0);
  } finally {
    await ingest.service.stop();
  }
  assert.equal((await queueDepth(queue)).ready, 0, 'nothing was requeued when ingest closed its connection');
});

// The scenario says 60 s (test/bus/amqp-outage.scenario.ts runs that); 4 s shows the same
// thing here at a fifteenth of the cost: each start attempt times out after 1 s and backs off up to
// 0.5 s, so the outage spans several rounds: the three failed attempts the window waits for, then two
// or three more inside it, every one checked against the invariants.
test('Temporal unreachable during an AMQP burst: nothing acked early, prefetch holds the rest on the broker, nothing lost', { timeout: 180_000 }, async () => {
  await temporalOutage({ client, rules, amqpConfig, publish: publishBuilds }, 4000);
});
