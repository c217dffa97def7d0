// Scenario (issue 12): 10,000 hostile frames, 50 of them over max_message_bytes, published to the real
// `taskotron ingest --bind`. Before the transport limits its RSS went from 139 MB to 1.48 GB and stayed
// there. Now: ingest stays up, every frame it sees is counted by reason, each frame ZeroMQ refuses is one
// dropped (and re-made) connection, VmHWM and VmRSS stay under RSS_BOUND_MIB, and a valid message sent
// afterwards starts its trigger workflow. `npm run test:scenarios`; the suite runs 1,000 (flood.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { testClient } from '../support/temporal.js';
import { floodIngest, RSS_BOUND_MIB } from './flood.js';

let client: Client;
let close: () => Promise<void>;
before(async () => ({ client, close } = await testClient()));
after(async () => close());

const FRAMES = 10_000;
const OVERSIZED = 50;

test('10,000 hostile frames (50 over the limit) to taskotron ingest --bind: all counted by reason, refusals counted as drops, RSS bounded, ingest still starts', { timeout: 1_800_000 }, async () => {
  const result = await floodIngest(client, FRAMES, OVERSIZED);
  console.log(`# flood 10,000: ${JSON.stringify(result)}`);
  assert.equal(result.oversized, OVERSIZED);
  assert.deepEqual(result.counted, result.expected);
  assert.equal(result.counted.received, FRAMES - OVERSIZED + 1);
  assert.equal(result.disconnects, OVERSIZED);
  assert.equal(result.connections, OVERSIZED + 1);
  assert.ok(result.lastStarted);
  assert.ok(result.memory.hwm < RSS_BOUND_MIB, `VmHWM ${result.memory.hwm} MiB over ${RSS_BOUND_MIB}`);
  assert.ok(result.memory.after < RSS_BOUND_MIB, `VmRSS after ${result.memory.after} MiB over ${RSS_BOUND_MIB}`);
});
