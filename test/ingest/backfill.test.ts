// After a restart ingest fills the gap from a datagrepper-compatible /raw endpoint, starting at the
// timestamp it persisted: paged, rate-limited, and already-started messages start nothing twice.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { quietRuntime } from '../support/runtime.js';
import { testClient } from '../support/temporal.js';
import { corpusEnvelope } from './corpus.js';
import { startDatagrepper } from './datagrepper-server.js';
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
const build = (timestamp: number) => ({ ...corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', `2026-${crypto.randomUUID()}`), timestamp });
const wiki = (timestamp: number, i: number) => ({ topic: 'org.fedoraproject.prod.wiki.article.edit', msg_id: `2026-wiki-${i}-${crypto.randomUUID()}`, timestamp, msg: { title: `Page ${i}` } });

test('a restarted ingest backfills the gap since its persisted checkpoint, paged and rate-limited', { timeout: 120_000 }, async () => {
  const t0 = Math.floor(Date.now() / 1000) - 3600;
  const live = build(t0);
  const long_ago = build(t0 - 10_000);
  const missed = [build(t0 + 200), build(t0 + 201.5)];
  const noise = Array.from({ length: 150 }, (_, i) => wiki(t0 + 1 + i, i));
  const datagrepper = await startDatagrepper([long_ago, live, ...noise, ...missed]);
  const stateDir = scratchDir('ingest-backfill');
  const sent: number[] = [];
  const realFetch = globalThis.fetch;
  try {
    const first = await startTestIngest(rules, { datagrepperUrl: datagrepper.url, backfillRate: 2 }, { stateDir });
    try {
      await publishTo(first.endpoint, [live]);
      await until('the live message to start', () => first.service.stats().started === 1, INGEST_WAIT_MS);
      await until('the checkpoint to be persisted', () => first.service.readCheckpoint()?.timestamp === t0, INGEST_WAIT_MS);
      assert.equal(datagrepper.requests.length, 0, 'no checkpoint at first start: nothing to backfill');
      await client.workflow.getHandle(`msg-${live.msg_id}`).result();
      await client.workflow.getHandle(`msg-${live.msg_id}/rpmlint/x86_64`).result();
    } finally {
      await first.service.stop();
    }
    assert.deepEqual(JSON.parse(readFileSync(join(stateDir, 'checkpoint.json'), 'utf8')), { timestamp: t0 });

    // While it was down, the bus carried 150 unrelated messages and two builds.
    // The rate limit is a promise about when requests leave the ingest (the service runs in this
    // process): when the server sees them also depends on how long the first one took to arrive.
    globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      // The time first: Node loads its Request class on first use, which takes tens of ms.
      const at = performance.now();
      if ((typeof input === 'string' ? input : 'url' in input ? input.url : input.href).startsWith(datagrepper.url)) sent.push(at);
      return realFetch(input, init);
    }) as typeof fetch;
    const second = await startTestIngest(rules, { datagrepperUrl: datagrepper.url, backfillRate: 2 }, { stateDir, queue: first.queue });
    try {
      await second.service.backfillDone();
      await until('the two missed builds to start', () => (second.service.stats().started ?? 0) === 2, INGEST_WAIT_MS);
      const stats = second.service.stats();
      assert.equal(stats.backfilled, 153, 'the live one again, the noise and the two missed builds');
      assert.equal(stats['already-started'], 1, 'the message seen live is refused by Temporal, not started twice');
      assert.equal(stats['rejected.unknown-topic'], 150);
      for (const m of missed) {
        await client.workflow.getHandle(`msg-${m.msg_id}`).result();
        assert.ok(await client.workflow.getHandle(`msg-${m.msg_id}/rpmlint/x86_64`).result());
      }
      await assert.rejects(client.workflow.getHandle(`msg-${long_ago.msg_id}`).describe(), /not found/);
    } finally {
      await second.service.stop();
    }
    // Paged (153 records, 100 a page), from the checkpoint minus the overlap, ascending, rate-limited.
    assert.equal(datagrepper.requests.length, 2);
    const [p1, p2] = datagrepper.requests as [typeof datagrepper.requests[0], typeof datagrepper.requests[0]];
    assert.equal(p1.params.get('start'), String(t0 - 60));
    assert.equal(p1.params.get('order'), 'asc');
    assert.deepEqual([p1.params.get('page'), p2.params.get('page')], ['1', '2']);
    // 2/s: the second request leaves at least 500 ms after the first, in monotonic time as the limiter
    // keeps it (1 ms for the timer's rounding). Without the limit they leave ~1 ms apart.
    assert.equal(sent.length, 2);
    assert.ok(sent[1]! - sent[0]! >= 499, `requests sent ${(sent[1]! - sent[0]!).toFixed(1)} ms apart at 2/s`);
    assert.ok(p2.at >= p1.at);
    // Datagrepper's float timestamps are made int again, as fedmsg's fix_datagrepper_message does.
    assert.equal(JSON.parse(readFileSync(join(stateDir, 'checkpoint.json'), 'utf8')).timestamp, t0 + 201);
  } finally {
    globalThis.fetch = realFetch;
    await datagrepper.close();
  }
});
