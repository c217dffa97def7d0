// The one logger: JSON lines with the job's fields, pretty text when asked, the Temporal SDK's
// log calls routed through it, and an expected failure as one line instead of a stack trace.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { configureLogging, errorFields, logger, loggingSettingsFromEnv } from '../../src/logging/log.js';
import { TemporalLogBridge } from '../../src/worker/logging.js';

function capture(format: 'json' | 'pretty', level: 'debug' | 'info' = 'info') {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  configureLogging({ level, format }, stream);
  return { lines: () => text.split('\n').filter(Boolean), text: () => text };
}

test('JSON lines carry level, time, component and the fields given', () => {
  const out = capture('json');
  logger('ingest').info({ msgId: '2026-abc' }, 'matched');
  logger('ingest').debug('not shown at info');
  const [line, ...rest] = out.lines();
  assert.equal(rest.length, 0);
  const entry = JSON.parse(line!) as Record<string, unknown>;
  assert.equal(entry.level, 'info');
  assert.equal(entry.component, 'ingest');
  assert.equal(entry.msgId, '2026-abc');
  assert.equal(entry.msg, 'matched');
  assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT/);
});

test('pretty format is one readable line per entry', () => {
  const out = capture('pretty');
  logger('worker', { host: 'runner-1' }).warn('slot lost');
  const lines = out.lines();
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /WARN.*slot lost/);
  assert.throws(() => JSON.parse(lines[0]!));
});

test("the Temporal SDK's activity failure log is one line with the job's fields; an unexpected error keeps its stack", () => {
  const out = capture('json');
  const bridge = new TemporalLogBridge('INFO');
  const failure = ApplicationFailure.create({ type: 'CommandFailed', message: "action 'run': command exited 1", nonRetryable: false });
  bridge.warn('Activity failed', {
    error: failure,
    durationMs: 12,
    workflowId: 'job-koji_build-foo-1.0-1.fc40-rpmlint-x86_64',
    runId: 'r1',
    activityId: '2-shell',
    activityType: 'shell',
    timestampNanos: 1n,
    sdkComponent: 'activity',
  });
  bridge.error('Activity failed', { error: new TypeError('cannot read x of undefined'), activityType: 'shell' });
  bridge.debug('below the SDK level: dropped');
  bridge.warn('No activities registered, not polling for activity tasks');
  const [expected, unexpected, ...rest] = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rest.length, 0);
  assert.deepEqual(
    { ...expected, time: undefined, pid: undefined },
    {
      level: 'warn',
      time: undefined,
      pid: undefined,
      component: 'temporal',
      workflowId: 'job-koji_build-foo-1.0-1.fc40-rpmlint-x86_64',
      runId: 'r1',
      activityId: '2-shell',
      activityType: 'shell',
      durationMs: 12,
      sdkComponent: 'activity',
      action: '2-shell',
      failure: 'CommandFailed',
      reason: "action 'run': command exited 1",
      msg: 'Activity failed',
    },
  );
  assert.equal(JSON.stringify(expected).includes('    at '), false);
  assert.match(String((unexpected!.err as { stack: string }).stack), /TypeError: cannot read x of undefined\n\s+at /);
});

test("the product's named errors are expected failures too", () => {
  const refused = Object.assign(new Error('outcome must be one of (…)'), { name: 'ResultsDBRejected' });
  assert.deepEqual(errorFields(refused), { failure: 'ResultsDBRejected', reason: 'outcome must be one of (…)' });
  assert.deepEqual(Object.keys(errorFields(new RangeError('x'))), ['err']);
});

test('level and format come from TASKOTRON_LOG_LEVEL / TASKOTRON_LOG_FORMAT; a bad value names the variable', () => {
  assert.deepEqual(loggingSettingsFromEnv({}), { level: 'info', format: 'auto' });
  assert.deepEqual(loggingSettingsFromEnv({ TASKOTRON_LOG_LEVEL: 'DEBUG', TASKOTRON_LOG_FORMAT: 'json' }), { level: 'debug', format: 'json' });
  assert.throws(() => loggingSettingsFromEnv({ TASKOTRON_LOG_LEVEL: 'loud' }), /TASKOTRON_LOG_LEVEL \(logging\.level\): 'loud' is not one of trace, debug, info, warn, error/);
});
