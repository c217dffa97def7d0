// The datagrepper client's rate limit is a promise about real time: the next request leaves no
// sooner than 1/ratePerSecond after the one before it, even when the wall clock is set meanwhile
// (an NTP step on the host; the backfill test once saw two requests 477 ms apart at 2/s).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { datagrepperMessages } from '../../src/ingest/datagrepper.js';
import { startDatagrepper } from './datagrepper-server.js';

test('requests stay 1/rate apart in real time when the wall clock jumps forward between them', async () => {
  const records = Array.from({ length: 4 }, (_, i) => ({ topic: 'org.fedoraproject.prod.wiki.article.edit', msg_id: `2026-wiki-${i}`, timestamp: 1_764_316_800 + i, msg: { title: `Page ${i}` } }));
  const datagrepper = await startDatagrepper(records);
  const realFetch = globalThis.fetch;
  const realNow = Date.now;
  const gapMs = 200;
  const jumpMs = 120;
  let clockOffset = 0;
  const sent: number[] = [];
  // The wall clock jumps forward as each request leaves, as if set by NTP while the limiter waits.
  Date.now = () => realNow() + clockOffset;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (String(input).startsWith(datagrepper.url)) {
      sent.push(performance.now());
      clockOffset += jumpMs;
    }
    return realFetch(input, init);
  }) as typeof fetch;
  try {
    let seen = 0;
    for await (const record of datagrepperMessages(datagrepper.url, { start: 0, end: 2_000_000_000, rowsPerPage: 1, ratePerSecond: 1000 / gapMs })) {
      assert.ok(record.envelope);
      seen += 1;
    }
    assert.equal(seen, records.length);
    assert.equal(sent.length, records.length, 'one request per page');
    const gaps = sent.slice(1).map((at, i) => at - sent[i]!);
    // No tolerance: the client reads the clock after handing a request over and checks it again after
    // each timer (whose whole milliseconds may end a fraction early). Until 2026-12-05 it read the clock
    // just before the request, so any time the process was held up between the two came off the gap
    // measured here, and a 1 ms tolerance covered it; a run at load average 6 failed this test once.
    assert.ok(gaps.every((gap) => gap >= gapMs), `requests ${gaps.map((g) => g.toFixed(1)).join(', ')} ms apart at ${1000 / gapMs}/s`);
  } finally {
    Date.now = realNow;
    globalThis.fetch = realFetch;
    await datagrepper.close();
  }
});
