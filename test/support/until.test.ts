// The suite's one wait helper: what it returns, when it gives up, and what its failures say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { until, waitFor } from './until.js';

test('waitFor returns the first answer that is not undefined, null or false, sync or async', async () => {
  let calls = 0;
  const answers = [undefined, null, false, 0, 'late'];
  assert.equal(await waitFor('a zero', () => answers[calls++], { intervalMs: 1 }), 0);
  assert.equal(calls, 4);
  assert.deepEqual(await waitFor('an object', async () => ({ ok: true })), { ok: true });
  await until('a condition', () => true);
});

test('a wait that times out names what it waited for and how long, and asks `what` only then', async () => {
  let described = 0;
  let last = 0;
  const what = () => {
    described++;
    return `a counter past 1000 (last ${last})`;
  };
  await assert.rejects(
    until(what, () => ++last > 1000, { timeoutMs: 50, intervalMs: 5 }),
    (error: Error) => /^timed out after 50 ms waiting for a counter past 1000 \(last \d+\)$/.test(error.message),
  );
  assert.equal(described, 1);
  // The number form is the timeout.
  await assert.rejects(until('never', () => false, 30), /timed out after 30 ms waiting for never/);
});

test('a probe that throws fails the wait at once, unless errors are retried; then the last one is in the message', async () => {
  let calls = 0;
  await assert.rejects(
    until('a server', () => {
      calls++;
      throw new Error('connection refused');
    }),
    /^Error: connection refused$/,
  );
  assert.equal(calls, 1);
  await assert.rejects(
    until('a server', () => {
      throw new Error('connection refused');
    }, { timeoutMs: 40, intervalMs: 5, retryErrors: true }),
    /^Error: timed out after 40 ms waiting for a server; last error: connection refused$/,
  );
  calls = 0;
  assert.equal(await waitFor('a server back', () => {
    if (++calls < 3) throw new Error('not yet');
    return 'up';
  }, { intervalMs: 1, retryErrors: true }), 'up');
});

test('the deadline is on the monotonic clock: a wall clock stepping forward mid-wait does not end it early', async () => {
  const realNow = Date.now;
  try {
    let polls = 0;
    const tenthPoll = await waitFor('ten polls', () => {
      // An hour's step of the wall clock after the first poll, as a VM's clock has been seen to do.
      if (++polls === 1) Date.now = () => realNow() + 3_600_000;
      return polls >= 10 && polls;
    }, { timeoutMs: 5_000, intervalMs: 1 });
    assert.equal(tenthPoll, 10);
  } finally {
    Date.now = realNow;
  }
});
