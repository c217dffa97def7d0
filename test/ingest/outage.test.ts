// Nothing matched is lost: while Temporal cannot be reached, matched messages wait in a bounded
// memory queue and then in the durable spool; they are started when it answers again, also after
// an ingest restart. The server is reached through a TCP relay this test opens and closes.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { freePort } from '../../src/devserver/server.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { Relay } from './relay.js';
import { corpusEnvelope } from './corpus.js';
import { publishTo, scratchDir, startTestIngest, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';

let client: Client;
let close: () => Promise<void>;
before(async () => {
  quietRuntime();
  ({ client, close } = await testClient());
});
after(async () => close());

const rules = '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n';
const builds = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const envelope = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', `2026-${crypto.randomUUID()}`);
    return { ...envelope, timestamp: 1_764_316_800 + i };
  });

// Started, or found started by a retry: with a 1 s start deadline on a loaded machine, a start the
// server carried out can time out on our side, and its retry then finds the workflow already there
// ('already-started'). Either way the trigger workflow exists once, which the test checks too.
const startedOrFound = (stats: Record<string, number | undefined>) => (stats.started ?? 0) + (stats['already-started'] ?? 0);

const spoolFiles = (stateDir: string) => readdirSync(join(stateDir, 'spool')).filter((f) => f.endsWith('.jsonl'));

test('while Temporal is unreachable matched messages fill memory then the spool; all start once it answers', { timeout: 90_000 }, async () => {
  // Built before anything starts: a throw between a start and its `try` would leave it running.
  const messages = builds(6);
  const relay = new Relay(await freePort());
  const stateDir = scratchDir('ingest-outage');
  const ingest = await startTestIngest(rules, { memoryQueue: 2 }, {
    stateDir,
    temporal: { address: `127.0.0.1:${relay.port}`, namespace: 'default' },
    retryBackoffMs: { min: 100, max: 500 },
    startTimeoutMs: 1000,
    worker: false,
  });
  try {
    await publishTo(ingest.endpoint, messages);
    await until('all six to be matched', () => ingest.service.stats().matched === 6, INGEST_WAIT_MS);
    await until('start attempts to fail', () => (ingest.service.stats()['start-retry'] ?? 0) >= 2, INGEST_WAIT_MS);
    const stats = ingest.service.stats();
    const shown = JSON.stringify(stats);
    assert.equal(stats.started ?? 0, 0, shown);
    assert.equal(stats.pending, 6, shown);
    // Memory holds at most two that are nowhere else; the rest went to disk (one may have been
    // moved there from memory when a start from the spool failed and came back to the queue).
    assert.ok(stats.volatile! <= 2, `at most two only in memory: ${shown}`);
    assert.ok(stats.spooled! >= 4, `four or more went to disk: ${shown}`);
    assert.ok(spoolFiles(stateDir).length > 0);

    await relay.open();
    await until(() => `all six to start after the server is back: ${JSON.stringify(ingest.service.stats())}`, () => startedOrFound(ingest.service.stats()) === 6, 30_000);
    assert.equal(ingest.service.stats().pending, 0);
    assert.deepEqual(spoolFiles(stateDir), [], 'started entries leave the spool');
    for (const m of messages) await client.workflow.getHandle(`msg-${m.msg_id}`).describe();
  } finally {
    await ingest.service.stop();
    await relay.shut();
  }
});

test('messages held when ingest stops during an outage are in the spool and start after a restart', { timeout: 90_000 }, async () => {
  const messages = builds(3);
  const stateDir = scratchDir('ingest-restart');
  const down = await startTestIngest(rules, {}, {
    stateDir,
    temporal: { address: `127.0.0.1:${await freePort()}`, namespace: 'default' },
    retryBackoffMs: { min: 100, max: 500 },
    startTimeoutMs: 1000,
    worker: false,
  });
  try {
    await publishTo(down.endpoint, messages);
    await until('all three to be matched', () => down.service.stats().matched === 3, INGEST_WAIT_MS);
  } finally {
    await down.service.stop();
  }
  assert.match(down.logs.join('\n'), /kept 3 unstarted message\(s\) in .*spool for the next start/);
  assert.ok(spoolFiles(stateDir).length > 0);

  const up = await startTestIngest(rules, {}, { stateDir, queue: down.queue });
  try {
    await until(() => `the spooled messages to start: ${JSON.stringify(up.service.stats())}`, () => startedOrFound(up.service.stats()) === 3, INGEST_WAIT_MS);
    for (const m of messages) assert.ok(await client.workflow.getHandle(`msg-${m.msg_id}`).result());
    assert.deepEqual(spoolFiles(stateDir), []);
  } finally {
    await up.service.stop();
  }
});
