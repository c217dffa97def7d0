// `taskotron setup` makes a cluster ready and is safe to run again: against the harness's Temporal
// server, a fresh namespace is registered with the configured retention and gets every search
// attribute a job carries; the second run changes nothing and fails on nothing.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/common/search-attributes.js';
import { serverNotReady, setupCluster } from '../../src/cli/setup.js';
import { temporalSettingsFromOptions } from '../../src/cli/options.js';
import { projectRoot } from '../../src/devserver/project.js';
import { freePort } from '../../src/devserver/server.js';
import { testAddress, uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';

const run = promisify(execFile);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [...cliArgs(), ...args], { cwd: projectRoot(), env: { ...process.env, ...env } });

/**
 * Starts `taskotron <args>` and reads its output until `done(output)` holds, it exits, or `timeoutMs`
 * passes; then stops it (SIGTERM, SIGKILL after 10 s) and returns whether `done` held, with the output.
 * Bounded on every path: a process that keeps running must not hold the test file open.
 */
async function watchCli(args: string[], done: (output: string) => boolean, timeoutMs = 60_000): Promise<{ said: boolean; output: string }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: projectRoot(),
    env: { ...process.env, TEMPORAL_ADDRESS: testAddress() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const said = await new Promise<boolean>((resolve) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (done(output)) resolve(true);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    void exited.then(() => resolve(done(output)));
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  clearTimeout(timer);
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
  return { said, output };
}

/** A registered namespace with none of the search attributes jobs set, as a plain dev server has. */
async function bareNamespace(prefix: string): Promise<string> {
  const namespace = uniqueName(prefix);
  const connection = await Connection.connect({ address: testAddress() });
  try {
    await setupCluster(connection, { namespace, retentionSeconds: 86_400, attributes: [] });
  } finally {
    await connection.close();
  }
  return namespace;
}

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

// Without the warning the worker polls on: watchCli's deadline ends the wait, and the test fails.
test('a runner host on a namespace that is not set up says so at start, naming the command that fixes it', { timeout: 90_000 }, async () => {
  const namespace = await bareNamespace('worker-bare');
  const root = mkdtempSync(join(tmpdir(), 'taskotron-worker-bare-'));
  const { said, output } = await watchCli(['worker', '--namespace', namespace, '--root', root, '--shutdown-grace', '1'], (out) => /not set up for taskotron/.test(out) && /taskotron setup --address/.test(out));
  assert.ok(said, output);
  assert.match(output, new RegExp(`namespace ${namespace} lacks the search attributes jobs set \\(TaskName, Item, ItemType, Arch, JobOutcome, RunnerHost, MessageType, MsgId\\)`));
});

test('an ingest on a namespace that is not set up says so once it listens, naming the command that fixes it', { timeout: 90_000 }, async () => {
  const namespace = await bareNamespace('ingest-bare');
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-ingest-bare-'));
  const rules = join(dir, 'trigger_rules.yml');
  writeFileSync(rules, '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n');
  const { said, output } = await watchCli(
    ['ingest', '--namespace', namespace, '--rules', rules, '--bind', `tcp://127.0.0.1:${await freePort()}`, '--state-dir', join(dir, 'state')],
    (out) => /not set up for taskotron/.test(out) && /has run \(a start refused for good is kept in .*refused\.jsonl\)/.test(out),
  );
  assert.ok(said, output);
  assert.match(output, /taskotron ingest: ready on/);
  assert.match(output, new RegExp(`namespace ${namespace} lacks the search attributes jobs set \\(TaskName, Item, ItemType, Arch, JobOutcome, RunnerHost, MessageType, MsgId\\); trigger starts fail until \`taskotron setup --address ${testAddress().replace(/\./g, '\\.')} --namespace ${namespace}\``));
});

test('a search attribute of the wrong type: setup refuses to go on, and the start-up check names it beside the missing ones', async () => {
  const namespace = uniqueName('setup-mistyped');
  const connection = await Connection.connect({ address: testAddress() });
  try {
    await setupCluster(connection, { namespace, retentionSeconds: 86_400, attributes: [{ name: 'TaskName', type: 'TEXT' }] });
    const problem = await serverNotReady(temporalSettingsFromOptions({ address: testAddress(), namespace }));
    assert.equal(
      problem,
      `namespace ${namespace} lacks the search attributes jobs set (Item, ItemType, Arch, JobOutcome, RunnerHost, MessageType, MsgId); ` +
        `search attribute TaskName exists in ${namespace} as INDEXED_VALUE_TYPE_TEXT, but taskotron needs KEYWORD`,
    );
    await assert.rejects(setupCluster(connection, { namespace, retentionSeconds: 86_400 }), {
      message: `search attribute TaskName exists in ${namespace} as INDEXED_VALUE_TYPE_TEXT, but taskotron needs KEYWORD: remove it or use another namespace`,
    });
    // Ready once set up: nothing to say.
    const ready = uniqueName('setup-ready');
    await setupCluster(connection, { namespace: ready, retentionSeconds: 86_400 });
    assert.equal(await serverNotReady(temporalSettingsFromOptions({ address: testAddress(), namespace: ready })), undefined);
  } finally {
    await connection.close();
  }
});

test('an ingest without a rules file says which settings name one, without a stack trace', async () => {
  const failed = await cli(['ingest', '--bind', 'tcp://127.0.0.1:1', '--state-dir', mkdtempSync(join(tmpdir(), 'taskotron-ingest-norules-'))]).then(
    () => assert.fail('taskotron ingest without rules exited 0'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 2);
  assert.equal(failed.stderr.trim(), "taskotron ingest: no rules file: pass --rules <trigger_rules.yml>, or set ingest.rules in taskotron.yaml (TASKOTRON_INGEST_RULES) or rules_template in trigger.cfg's [trigger] section");
});
