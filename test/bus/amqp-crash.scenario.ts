// Scenario: `taskotron ingest` killed with SIGKILL in the middle of a burst of 10,000 matched AMQP
// messages on the harness's RabbitMQ (TASKOTRON_TEST_AMQP_URL); after a restart every message has
// exactly one trigger workflow (see ./crash.ts; the suite runs the same with a small burst in
// amqp-crash.test.ts). 10,000 starts would keep the harness's shared server busy for minutes and
// starve the test files running beside this one, so this file runs its own Temporal dev server.
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../../src/devserver/cli-binary.js';
import { startDevServer, type DevServer } from '../../src/devserver/server.js';
import { killDuringBurst } from './crash.js';

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

// Starts run at what Temporal manages on the machine (~20/s on the shared 2-core box): the waits
// inside follow progress rather than a fixed time, so the bound is generous.
test('kill -9 during a burst of 10,000 AMQP messages: after a restart exactly one trigger workflow each', { timeout: 3_600_000 }, async () => {
  await killDuringBurst({ client, temporalAddress: server.address, messages: 10_000, killAfter: 2000, prefetch: 100 });
});
