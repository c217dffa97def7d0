// kill -9 ingest during a small burst of AMQP messages: after a restart exactly one trigger workflow
// per message, none missing (./crash.ts), on the harness's RabbitMQ (TASKOTRON_TEST_AMQP_URL). The
// issue's 10,000-message version is a scenario (amqp-crash.scenario.ts, `npm run test:scenarios`);
// this one keeps the path in every CI run.
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { testAddress, testClient } from '../support/temporal.js';
import { killDuringBurst } from './crash.js';

let client: Client;
let close: () => Promise<void>;
before(async () => ({ client, close } = await testClient()));
after(async () => close());

test('kill -9 during a burst of 300 AMQP messages: after a restart exactly one trigger workflow each', { timeout: 300_000 }, async () => {
  await killDuringBurst({ client, temporalAddress: testAddress(), messages: 300, killAfter: 60, prefetch: 50 });
});
