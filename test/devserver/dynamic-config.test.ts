// Every server the project starts runs with the same dynamic config: the dev servers (npm start, the
// test harness, runtask's ephemeral server, benchmarks) through devServerArgs, the compose stack
// through deploy/temporal/dynamicconfig.yaml. The values themselves are explained in
// docs/PERFORMANCE.md; this keeps the two places from drifting apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../src/devserver/project.js';
import { DEV_SERVER_DYNAMIC_CONFIG, devServerArgs } from '../../src/devserver/server.js';

const base = { ip: '127.0.0.1', port: 7233, namespace: 'default', logLevel: 'warn' as const, binary: 'temporal' };

function dynamicValues(args: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  args.forEach((arg, i) => {
    if (arg !== '--dynamic-config-value') return;
    const [key, ...rest] = args[i + 1]!.split('=');
    values[key!] = JSON.parse(rest.join('='));
  });
  return values;
}

test('dev servers get the history queue readers raised by default', () => {
  const values = dynamicValues(devServerArgs(base));
  assert.deepEqual(values, DEV_SERVER_DYNAMIC_CONFIG);
  assert.ok(Number(values['history.transferProcessorMaxPollRPS']) >= 200, 'transfer reader limit raised above the stock 20/s');
});

test('dev servers write each task queue to one partition and still read the stock four', () => {
  const values = dynamicValues(devServerArgs(base));
  assert.equal(values['matching.numTaskqueueWritePartitions'], 1);
  // Fewer read partitions would strand tasks an older server (or this one, stock) wrote to the others.
  assert.equal(values['matching.numTaskqueueReadPartitions'], undefined);
});

test('an explicit empty dynamic config runs the server stock (benchmarks compare against it)', () => {
  assert.deepEqual(dynamicValues(devServerArgs({ ...base, dynamicConfig: {} })), {});
});

test('the compose stack file sets the same values as the dev servers', () => {
  const file = join(projectRoot(), 'deploy', 'temporal', 'dynamicconfig.yaml');
  const parsed = parse(readFileSync(file, 'utf8')) as Record<string, Array<{ value: unknown; constraints?: unknown }>>;
  const flat = Object.fromEntries(Object.entries(parsed).map(([key, entries]) => {
    assert.equal(entries.length, 1, `${file}: ${key} has one unconstrained value`);
    assert.equal(entries[0]!.constraints, undefined, `${file}: ${key} has no constraints`);
    return [key, entries[0]!.value];
  }));
  assert.deepEqual(flat, DEV_SERVER_DYNAMIC_CONFIG);
});
