// `taskotron setup` makes a cluster ready and is safe to run again: against the harness's Temporal
// server, a fresh namespace is registered with the configured retention and gets every search
// attribute a job carries; the second run changes nothing and fails on nothing.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/common/search-attributes.js';
import { setupCluster } from '../../src/cli/setup.js';
import { projectRoot } from '../../src/devserver/project.js';
import { testAddress, uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';

const run = promisify(execFile);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [...cliArgs(), ...args], { cwd: projectRoot(), env: { ...process.env, ...env } });

test('setup registers a missing namespace with its retention and adds the search attributes; a second run changes nothing', async () => {
  const namespace = uniqueName('setup');
  const connection = await Connection.connect({ address: testAddress() });
  try {
    const first = await setupCluster(connection, { namespace, retentionSeconds: 3 * 86_400 });
    assert.equal(first.namespace, 'registered');
    assert.deepEqual(first.added.sort(), SEARCH_ATTRIBUTES.map((k) => k.name).sort());

    const described = await connection.workflowService.describeNamespace({ namespace });
    assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), 3 * 86_400);
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    for (const key of SEARCH_ATTRIBUTES) assert.ok(listed.customAttributes?.[key.name] !== undefined, `${key.name} is registered`);

    const second = await setupCluster(connection, { namespace, retentionSeconds: 3 * 86_400 });
    assert.deepEqual(second, { namespace: 'present', added: [], present: SEARCH_ATTRIBUTES.map((k) => k.name) });
  } finally {
    await connection.close();
  }
});

test('`taskotron setup` from the CLI, twice, with the namespace and retention from taskotron.yaml settings in the environment', async () => {
  const namespace = uniqueName('setup-cli');
  const env = { TEMPORAL_ADDRESS: testAddress(), TASKOTRON_TEMPORAL_NAMESPACE: namespace, TASKOTRON_TEMPORAL_RETENTION: '7d' };
  const first = await cli(['setup'], env);
  assert.match(first.stdout, new RegExp(`namespace ${namespace}: registered \\(retention 7d\\)`));
  assert.match(first.stdout, /ready \(registered; \d+ search attribute\(s\) added\)/);
  const second = await cli(['setup', '--retention', '14d'], env);
  assert.match(second.stdout, /retention 7d → 14d/);
  assert.match(second.stdout, /ready \(retention updated; 0 search attribute\(s\) added\)/);
  const third = await cli(['setup', '--retention', '14d'], env);
  assert.match(third.stdout, /ready \(present; 0 search attribute\(s\) added\)/);
});

// Bounded: without the warning the worker would poll on, and the test would wait for ever.
test('a runner host on a namespace that is not set up says so at start, naming the command that fixes it', { timeout: 90_000 }, async () => {
  const namespace = uniqueName('worker-bare');
  const connection = await Connection.connect({ address: testAddress() });
  try {
    await setupCluster(connection, { namespace, retentionSeconds: 86_400, attributes: [] });
  } finally {
    await connection.close();
  }
  const root = mkdtempSync(join(tmpdir(), 'taskotron-worker-bare-'));
  const child = spawn(process.execPath, [...cliArgs(), 'worker', '--namespace', namespace, '--root', root, '--shutdown-grace', '1'], {
    cwd: projectRoot(),
    env: { ...process.env, TEMPORAL_ADDRESS: testAddress() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const said = await new Promise<boolean>((resolve) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (/not set up for taskotron/.test(output) && /taskotron setup --address/.test(output)) resolve(true);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    void exited.then(() => resolve(false));
  });
  child.kill('SIGTERM');
  await exited;
  assert.ok(said, output);
  assert.match(output, new RegExp(`namespace ${namespace} lacks the search attributes jobs set \\(TaskName, Item, ItemType, Arch, JobOutcome, RunnerHost, MessageType, MsgId\\)`));
});
