// A backfill that cannot lose a window: a datagrepper outage is waited out (counted, retried with
// backoff) instead of ending the backfill; meanwhile the live bus moves on but the checkpoint stays
// at the backfill's progress; signed messages served with Python's float lexemes (`3.0`) verify.
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { JsonNumber, pythonJsonDumps } from '../../src/bus/canonical-json.js';
import { datagrepperPage } from '../../src/bus/envelope.js';
import { FedmsgPublisher } from '../../src/bus/fedmsg.js';
import { signatureVerifier, verifyEnvelope } from '../../src/bus/signatures.js';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { corpusDir, corpusEnvelope } from './corpus.js';
import { RAW_TEXT, startDatagrepper } from './datagrepper-server.js';
import { scratchDir, startTestIngest, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';
import { makeTestCa, type TestCa } from './test-ca.js';

let client: Client;
let close: () => Promise<void>;
let ca: TestCa;
before(async () => {
  quietRuntime();
  ca = makeTestCa();
  ({ client, close } = await testClient());
});
after(async () => {
  await close();
  rmSync(ca.dir, { recursive: true, force: true });
});

const rules = '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n';
const buildMsg = () => corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json').msg;
const wrap = (b64: string) => `${b64.replace(/(.{76})/g, '$1\n')}\n`;

/**
 * A build message signed by koji01 as fedmsg signs, stored as datanommer stores it and served as
 * datagrepper (Python) writes it: the float timestamp `….0` and a float `3.0` inside msg.
 */
function signedDatagrepperRecord(timestamp: number): { msgId: string; live: string; record: Record<string, unknown> & { [RAW_TEXT]: string } } {
  const msgId = `2026-${crypto.randomUUID()}`;
  const envelope: Record<string, unknown> = {
    crypto: 'x509',
    i: 1,
    msg: { ...(buildMsg() as Record<string, unknown>), elapsed: new JsonNumber('3.0') },
    msg_id: msgId,
    timestamp: new JsonNumber(String(timestamp)),
    topic: 'org.fedoraproject.prod.buildsys.build.state.change',
    username: 'apache',
  };
  const signature = sign('sha1', Buffer.from(pythonJsonDumps(envelope)), readFileSync(join(ca.dir, 'koji01.key')));
  const sent = { ...envelope, signature: wrap(signature.toString('base64')), certificate: wrap(readFileSync(join(ca.dir, 'koji01.crt')).toString('base64')) };
  const stored = {
    ...sent,
    timestamp: new JsonNumber(`${timestamp}.0`),
    source_name: 'datanommer',
    source_version: '0.8.1',
    headers: {},
  };
  const text = pythonJsonDumps(stored);
  return { msgId, live: pythonJsonDumps(sent), record: { ...(JSON.parse(text) as Record<string, unknown>), [RAW_TEXT]: text } };
}

test('pages are parsed keeping number lexemes: the real signed production record and a 3.0 inside msg verify', () => {
  const real = readFileSync(join(corpusDir, 'fedmsg', 'buildsys.build.state.change__signed_datagrepper_04.json'), 'utf8');
  const signed = signedDatagrepperRecord(1_764_316_800);
  const page = `{"pages": 1, "total": 2, "raw_messages": [${real}, ${signed.record[RAW_TEXT]}]}`;
  const { records, pages } = datagrepperPage(page);
  assert.equal(pages, 1);
  assert.equal(records.length, 2);
  assert.equal(verifyEnvelope(records[0]!.envelope as Record<string, unknown>, records[0]!.signedText), undefined);
  const verify = signatureVerifier({ caFile: ca.caFile, crlFile: ca.crlFile });
  const [, mine] = records as [unknown, { envelope: Record<string, unknown>; signedText: string }];
  assert.equal(verify(mine.envelope as never, Buffer.from(mine.signedText)), undefined);
  // What response.json() used to give: `3.0` became 3 and the signature no longer matched.
  assert.equal(verify(mine.envelope as never, undefined), 'the signature does not verify');
});

test('a datagrepper outage during backfill is retried and counted; the checkpoint waits for the backfill, not the live bus', { timeout: 120_000 }, async () => {
  const t0 = Math.floor(Date.now() / 1000) - 3600;
  const missed = [signedDatagrepperRecord(t0 + 100), signedDatagrepperRecord(t0 + 200), signedDatagrepperRecord(t0 + 300)];
  const datagrepper = await startDatagrepper(missed.map((m) => m.record));
  const stateDir = scratchDir('ingest-backfill-outage');
  writeFileSync(join(stateDir, 'checkpoint.json'), `${JSON.stringify({ timestamp: t0 })}\n`);
  datagrepper.outage = true;
  const ingest = await startTestIngest(rules, { datagrepperUrl: datagrepper.url, backfillRate: 20 }, {
    stateDir,
    backfillRetryMs: { min: 100, max: 400 },
    verify: signatureVerifier({ caFile: ca.caFile, crlFile: ca.crlFile }),
  });
  try {
    await until('backfill retries while datagrepper is down', () => (ingest.service.stats()['backfill.retry'] ?? 0) >= 3, INGEST_WAIT_MS);
    // The live bus carries a message from now; the checkpoint must not jump over the unread window.
    const liveTime = Math.floor(Date.now() / 1000);
    const live = signedDatagrepperRecord(liveTime);
    const publisher = await FedmsgPublisher.open({ connect: ingest.endpoint });
    try {
      assert.ok(await publisher.waitForSubscriber(5000));
      await publisher.send('org.fedoraproject.prod.buildsys.build.state.change', live.live);
    } finally {
      await publisher.close();
    }
    await until('the live message to start', () => ingest.service.stats().started === 1, INGEST_WAIT_MS);
    ingest.service.saveCheckpoint();
    assert.equal(ingest.service.readCheckpoint()?.timestamp, t0, 'the checkpoint stays where the backfill is');

    datagrepper.outage = false;
    await ingest.service.backfillDone();
    await until('the missed messages to start once datagrepper answers', () => ingest.service.stats().started === 4, INGEST_WAIT_MS);
    const stats = ingest.service.stats();
    assert.equal(stats['rejected.bad-signature'] ?? 0, 0, JSON.stringify(stats));
    assert.ok(datagrepper.failed >= 3);
    for (const id of [...missed, live].map((m) => m.msgId)) await client.workflow.getHandle(`msg-${id}`).result();
    ingest.service.saveCheckpoint();
    assert.equal(ingest.service.readCheckpoint()?.timestamp, liveTime, 'after the backfill the checkpoint follows the bus again');
  } finally {
    await ingest.service.stop();
    await datagrepper.close();
  }
});

test('reading messages older than the namespace retention warns: dedup by workflow ID no longer holds there', { timeout: 60_000 }, async () => {
  // End to end: a checkpoint 400 days old makes the backfill itself reach back past the retention.
  const datagrepper = await startDatagrepper([]);
  const stateDir = scratchDir('ingest-backfill-retention');
  writeFileSync(join(stateDir, 'checkpoint.json'), `${JSON.stringify({ timestamp: Math.floor(Date.now() / 1000) - 400 * 86_400 })}\n`);
  const ingest = await startTestIngest(rules, { datagrepperUrl: datagrepper.url, backfillRate: 1000 }, { stateDir, worker: false });
  try {
    await ingest.service.backfillDone();
    const warning = ingest.logs.find((l) => l.startsWith('warn: the backfill reaches back'));
    assert.match(warning ?? ingest.logs.join('\n'), /the backfill reaches back to .* beyond namespace default's retention of \d+(\.\d+)? h/);
    // A window inside the retention says nothing.
    assert.equal(await ingest.service.warnBeyondRetention(Date.now() / 1000 - 60, 'the backfill'), undefined);
    assert.equal(ingest.logs.filter((l) => l.startsWith('warn: the backfill reaches back')).length, 1);
  } finally {
    await ingest.service.stop();
    await datagrepper.close();
  }
});
