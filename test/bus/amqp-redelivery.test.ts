// A delivery redelivered while its first copy's trigger start is still pending (the AMQP connection
// dropped and came back while Temporal was unreachable) is a duplicate to ingest, but it must not be
// acked before the start is durable: acked early, it is gone from the broker, and ingest dying before
// the start is made loses the message. Regression test: the duplicate used to be acked at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AmqpPublisher } from '../../src/bus/amqp.js';
import { freePort } from '../../src/devserver/server.js';
import { DEFAULT_CONFIG } from '../../src/ingest/config.js';
import { consumers, queueDepth, privateExchange, testAmqpUrl } from '../support/amqp.js';
import { quietRuntime } from '../support/runtime.js';
import { uniqueName } from '../support/temporal.js';
import { corpusMessage } from '../ingest/corpus.js';
import { Relay } from '../ingest/relay.js';
import { startTestIngest, INGEST_WAIT_MS } from '../ingest/support.js';
import { until } from '../support/until.js';

let publisher: AmqpPublisher;
let EXCHANGE: string;
before(async () => {
  quietRuntime();
  ({ exchange: EXCHANGE, publisher } = await privateExchange('amqp-redelivery-exchange'));
});
after(async () => publisher.close());

test('a redelivery of a message whose start is still pending is not acked before the start is durable', { timeout: 120_000 }, async () => {
  const broker = new URL(testAmqpUrl());
  // The broker behind a relay ingest connects through, to drop its connection at will; Temporal
  // behind a relay that stays shut, so the start stays pending.
  const amqpRelay = new Relay(await freePort(), `${broker.hostname}:${broker.port}`);
  const temporalRelay = new Relay(await freePort());
  await amqpRelay.open();
  const url = new URL(testAmqpUrl());
  url.port = String(amqpRelay.port);
  const queue = uniqueName('amqp-redelivery');
  const ingest = await startTestIngest(
    '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n',
    { sources: ['amqp'], amqp: { ...DEFAULT_CONFIG.amqp, url: url.toString(), exchange: EXCHANGE, queue, bindings: ['org.fedoraproject.prod.buildsys.#'], tls: {}, prefetch: 5 } },
    { temporal: { address: `127.0.0.1:${temporalRelay.port}`, namespace: 'default' }, retryBackoffMs: { min: 100, max: 500 }, startTimeoutMs: 1000, worker: false },
  );
  try {
    await until('ingest to consume', async () => (await consumers(queue)) === 1, INGEST_WAIT_MS);
    const body = corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg as Record<string, unknown>;
    await publisher.publish({ topic: 'org.fedoraproject.prod.buildsys.build.state.change', body, schema: 'koji_fedoramessaging.build.BuildStateChangeV1' });
    await until('the start to fail', () => (ingest.service.stats()['start-retry'] ?? 0) >= 1, INGEST_WAIT_MS);
    // The connection drops: the broker takes the unacked delivery back and, once ingest has
    // reconnected, delivers it again.
    await amqpRelay.shut();
    await until('ingest to see the connection drop', () => (ingest.service.stats()['amqp.disconnects'] ?? 0) >= 1, INGEST_WAIT_MS);
    await amqpRelay.open();
    await until(() => `the redelivery: ${JSON.stringify(ingest.service.stats())}`, () => (ingest.service.stats().duplicate ?? 0) === 1, 30_000);
    const stats = ingest.service.stats();
    assert.equal(stats.started ?? 0, 0, 'Temporal is still unreachable');
    assert.equal(stats['amqp.unacked'], 1, `the redelivery is held unacked with the pending start: ${JSON.stringify(stats)}`);
  } finally {
    await ingest.service.stop();
    await amqpRelay.shut();
  }
  // Stopped before Temporal answered: the message is back on the queue for the next run, not acked away.
  assert.equal((await queueDepth(queue)).ready, 1, 'the message is still on the broker');
});
