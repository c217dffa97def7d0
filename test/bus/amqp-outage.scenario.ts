// Scenario: Temporal unreachable for 60 s during an AMQP burst (the figure) → nothing acked
// early, nothing lost. The same scenario as the suite's 8 s test in test/bus/amqp.test.ts (see
// ./outage.ts), at the length the issue states: longer than AMQP's 30 s heartbeat and many times the
// starter's backoff cap. Runs on the harness's RabbitMQ (TASKOTRON_TEST_AMQP_URL) and Temporal.
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import type { AmqpPublisher } from '../../src/bus/amqp.js';
import { DEFAULT_CONFIG, type IngestConfig } from '../../src/ingest/config.js';
import { privateExchange, testAmqpUrl } from '../support/amqp.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { corpusMessage } from '../ingest/corpus.js';
import { temporalOutage } from './outage.js';

const OUTAGE_SECONDS = 60;

let client: Client;
let close: () => Promise<void>;
let publisher: AmqpPublisher;
let EXCHANGE: string;
before(async () => {
  quietRuntime();
  ({ client, close } = await testClient());
  ({ exchange: EXCHANGE, publisher } = await privateExchange('amqp-outage-exchange'));
});
after(async () => {
  await publisher.close();
  await close();
});

const amqpConfig = (queue: string, overrides: Partial<IngestConfig['amqp']>): Partial<IngestConfig> => ({
  sources: ['amqp'],
  amqp: { ...DEFAULT_CONFIG.amqp, url: testAmqpUrl(), exchange: EXCHANGE, queue, bindings: ['org.fedoraproject.prod.buildsys.#'], tls: {}, ...overrides },
});

async function publish(n: number): Promise<string[]> {
  const body = corpusMessage('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg as Record<string, unknown>;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await publisher.publish({ topic: 'org.fedoraproject.prod.buildsys.build.state.change', body, schema: 'koji_fedoramessaging.build.BuildStateChangeV1' }));
  return ids;
}

test(`Temporal unreachable for ${OUTAGE_SECONDS} s during an AMQP burst: nothing acked early, nothing lost`, { timeout: (OUTAGE_SECONDS + 240) * 1000 }, async () => {
  await temporalOutage(
    { client, rules: '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n', amqpConfig, publish },
    OUTAGE_SECONDS * 1000,
  );
});
