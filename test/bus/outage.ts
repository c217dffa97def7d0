// "Temporal unreachable during an AMQP burst: nothing acked early, nothing lost", parametrised by how
// long the outage lasts: test/bus/amqp.test.ts runs it for 4 s in the suite, and
// test/bus/amqp-outage.scenario.ts for the 60 s (longer than AMQP's 30 s heartbeat and the
// starter's backoff cap, so a connection held with every delivery unacked must survive it).
//
// Ingest (A) consumes while Temporal is behind a shut relay: nothing starts, nothing is acked, no more
// than the prefetch is delivered, nothing spools. A is stopped at the end of the outage and every
// message is back on the queue. Ingest (B) then starts while Temporal is still unreachable, gets its
// prefetch, and recovers in the same process when the relay opens: each message has exactly one
// trigger workflow.
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { freePort } from '../../src/devserver/server.js';
import type { IngestConfig } from '../../src/ingest/config.js';
import { consumers, queueDepth } from '../support/amqp.js';
import { uniqueName } from '../support/temporal.js';
import { Relay } from '../ingest/relay.js';
import { startTestIngest, INGEST_WAIT_MS } from '../ingest/support.js';
import { until } from '../support/until.js';

export interface OutageSetup {
  client: Client;
  rules: string;
  /** The ingest configuration consuming `queue` (bound to where `publish` publishes). */
  amqpConfig(queue: string, overrides: Partial<IngestConfig['amqp']>): Partial<IngestConfig>;
  /** Publishes n matched messages; their message ids. */
  publish(n: number): Promise<string[]>;
}

export async function temporalOutage(setup: OutageSetup, outageMs: number, messages = 40): Promise<void> {
  const { client, rules, amqpConfig } = setup;
  const relay = new Relay(await freePort());
  const queue = uniqueName('amqp-outage');
  const prefetch = 5;
  const temporal = { address: `127.0.0.1:${relay.port}`, namespace: 'default' };
  const retry = { retryBackoffMs: { min: 100, max: 500 }, startTimeoutMs: 1000 };
  const down = await startTestIngest(rules, amqpConfig(queue, { prefetch }), { temporal, ...retry, worker: false });
  let ids: string[] = [];
  try {
    await until('ingest to consume', async () => (await consumers(queue)) === 1, INGEST_WAIT_MS);
    ids = await setup.publish(messages);
    await until('start attempts to fail', () => (down.service.stats()['start-retry'] ?? 0) >= 3, INGEST_WAIT_MS);
    const outageEnds = performance.now() + outageMs;
    while (performance.now() < outageEnds) {
      const stats = down.service.stats();
      assert.equal(stats.started ?? 0, 0);
      assert.ok((stats['received.amqp'] ?? 0) <= prefetch, `at most ${prefetch} delivered while none can be acked: ${JSON.stringify(stats)}`);
      assert.equal(stats.spooled ?? 0, 0, 'AMQP messages are never spooled: the broker keeps them');
      assert.equal(stats['amqp.disconnects'] ?? 0, 0, `the connection holding the unacked deliveries stays up: ${JSON.stringify(stats)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await queueDepth(queue)).ready, messages - prefetch, 'the rest wait on the broker');
  } finally {
    await down.service.stop();
  }
  assert.equal((await queueDepth(queue)).ready, messages, 'stopping acked nothing: every message is back on the queue');

  // Still down when B starts: B holds its prefetch unacked until the relay opens, then carries on.
  // No worker: only the starts are under test (a worker bundling workflow code would compete with them).
  const up = await startTestIngest(rules, amqpConfig(queue, { prefetch }), { temporal, ...retry, queue: down.queue, worker: false });
  try {
    await until('the restarted ingest to find Temporal still down', () => (up.service.stats()['start-retry'] ?? 0) >= 1, INGEST_WAIT_MS);
    assert.equal(up.service.stats().started ?? 0, 0);
    await relay.open();
    // A start the server made but whose answer missed the 1 s start deadline (a loaded machine) is
    // tried again and then counts as already-started: still one start per message, which visibility
    // checks below.
    const startedOnce = () => {
      const stats = up.service.stats();
      return (stats.started ?? 0) + (stats['already-started'] ?? 0);
    };
    await until(() => `all ${messages} to start once Temporal answers`, () => startedOnce() >= messages, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(up.service.stats())}\n${up.logs.slice(-20).join('\n')}`);
    });
    await until('every delivery acked', () => up.service.stats()['amqp.unacked'] === 0, INGEST_WAIT_MS);
    assert.equal((await queueDepth(queue)).ready, 0);
    const query = `WorkflowType = "triggerJobs" AND TaskQueue = "${down.queue}"`;
    await until(() => `${messages} trigger workflows by visibility`, async () => (await client.workflow.count(query)).count === messages, 60_000);
    let count = 0;
    for await (const w of client.workflow.list({ query })) {
      assert.ok(ids.includes(w.workflowId.replace(/^msg-/, '')), w.workflowId);
      count++;
    }
    assert.equal(count, messages, 'exactly one trigger workflow per message');
  } finally {
    await up.service.stop();
    await relay.shut();
  }
}
