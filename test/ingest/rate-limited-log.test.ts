// Bad input must not flood the log: per reason, at most `burst` warnings a window, then one line
// saying how many were suppressed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitedLog } from '../../src/ingest/stats.js';

test('warnings are limited per reason and window, and the suppressed count is reported when the window turns', () => {
  const lines: string[] = [];
  let now = 0;
  const log = new RateLimitedLog((level, message) => lines.push(`${level}: ${message}`), 5, 60_000, () => now);
  for (let i = 0; i < 12; i++) log.warn('not-json', `bad frame ${i}`);
  log.warn('bad-signature', 'bad signature 0');
  assert.deepEqual(lines, [
    'warn: bad frame 0', 'warn: bad frame 1', 'warn: bad frame 2', 'warn: bad frame 3', 'warn: bad frame 4',
    'warn: bad signature 0',
  ]);
  now = 59_999;
  log.warn('not-json', 'still suppressed');
  assert.equal(lines.length, 6);
  now = 60_000;
  log.warn('not-json', 'bad frame in the next window');
  assert.deepEqual(lines.slice(6), ["warn: 8 more 'not-json' message(s) suppressed", 'warn: bad frame in the next window']);
});
