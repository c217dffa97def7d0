// The suite's flood: 1,000 hostile frames, a few of them over max_message_bytes, against the real
// `taskotron ingest --bind` process (the 10,000-frame run is flood.scenario.ts, `npm run
// test:scenarios`). Ingest stays up, every frame it sees is counted by reason, every frame ZeroMQ
// refuses shows as a dropped connection, memory stays bounded, and a valid message afterwards starts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { testClient } from '../support/temporal.js';
import { floodIngest, RSS_BOUND_MIB } from './flood.js';

let client: Client;
let close: () => Promise<void>;
before(async () => ({ client, close } = await testClient()));
after(async () => close());

test('1,000 hostile frames (5 over the limit) to taskotron ingest --bind: all counted by reason, refusals counted as drops, RSS bounded, ingest still starts', { timeout: 300_000 }, async () => {
  const result = await floodIngest(client, 1_000, 5);
  console.log(`# flood 1,000: ${JSON.stringify(result)}`);
  assert.equal(result.oversized, 5);
  assert.deepEqual(result.counted, result.expected);
  assert.equal(result.counted.received, 1_000 - 5 + 1);
  assert.equal(result.disconnects, 5);
  assert.equal(result.connections, 6);
  assert.ok(result.lastStarted);
  assert.ok(result.memory.hwm < RSS_BOUND_MIB, `VmHWM ${result.memory.hwm} MiB over ${RSS_BOUND_MIB}`);
  assert.ok(result.memory.after < RSS_BOUND_MIB, `VmRSS after ${result.memory.after} MiB over ${RSS_BOUND_MIB}`);
});
