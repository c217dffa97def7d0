// The production commands as an operator runs them, each in its own process: `taskotron ingest`
// with the real trigger.cfg, fed by `taskotron publish`; SIGHUP reloads rules (a bad edit keeps the
// old ones); SIGTERM stops it cleanly; run from dist/, it runs its trigger workflows from the prebuilt
// bundle. `taskotron replay` from a JSON-lines file and from datagrepper.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { freePort } from '../../src/devserver/server.js';
import { projectRoot } from '../../src/devserver/project.js';
import type { TriggerResult } from '../../src/workflows/trigger.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { corpusEnvelope, renderedCorpusTriggerCfg } from './corpus.js';
import { startDatagrepper } from './datagrepper-server.js';
import { scratchDir, INGEST_WAIT_MS } from './support.js';
import { until } from '../support/until.js';
import { cliArgs } from '../support/cli.js';

let client: Client;
let close: () => Promise<void>;
before(async () => ({ client, close } = await testClient()));
after(async () => close());

const env = () => ({ ...process.env, TEMPORAL_ADDRESS: testAddress() });
/** Async: the datagrepper server the child talks to lives in this process and must keep serving. */
const taskotronAsync = (...args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [...cliArgs(), ...args], { cwd: projectRoot(), env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
const taskotron = (...args: string[]) => spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: projectRoot(), encoding: 'utf8', env: env() });
const build = () => corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', `2026-${crypto.randomUUID()}`);
const rpmlintRule = '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n';

test('taskotron ingest: trigger.cfg + publish start workflows; SIGHUP reloads rules, keeping them on a bad edit; SIGTERM exits 0', { timeout: 120_000 }, async () => {
  const dir = scratchDir('cli-ingest');
  const queue = uniqueName('cli-ingest');
  const rules = join(dir, 'trigger_rules.yml');
  writeFileSync(rules, rpmlintRule);
  const cfg = join(dir, 'trigger.cfg');
  writeFileSync(cfg, renderedCorpusTriggerCfg({ trigger_rules_template_path: rules, trigger_cache_dir: join(dir, 'cache') }));
  const port = await freePort();
  const endpoint = `tcp://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    [...cliArgs(), 'ingest', '--config', cfg, '--bind', endpoint, '--trigger-queue', queue, '--ingest-queue', queue, '--run-trigger-workflows', '--job-queue', queue, '--state-dir', join(dir, 'state')],
    // Without the harness's bundles: the compiled CLI finds the trigger bundle `npm run build` (or the
    // harness, when dist/ was older) wrote into dist/src, and runs no webpack.
    { cwd: projectRoot(), env: { ...env(), TASKOTRON_TRIGGER_BUNDLES: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await until(() => `ingest to be ready:\n${output}`, () => output.includes('taskotron ingest: ready on'), 60_000);
    await until(() => `ingest's worker to poll:\n${output}`, () => output.includes('worker polling'), 60_000);
    if (process.env.TASKOTRON_TEST_CLI === 'dist') assert.match(output, /\(trigger workflows, activities; bundle \S*\/dist\/src\/trigger-bundle\.js\)/);
    else assert.match(output, /\(trigger workflows, activities; bundled at start\)/, 'under tsx there is no prebuilt bundle');
    const message = build();
    const file = join(dir, 'build.json');
    writeFileSync(file, JSON.stringify(message));
    const published = taskotron('publish', '--endpoint', endpoint, file);
    assert.equal(published.status, 0, published.stderr);
    assert.equal(published.stdout.trim(), `published ${message.msg_id} ${message.topic}`);
    const trigger: TriggerResult = await until('the trigger workflow', async () => Boolean(await client.workflow.getHandle(`msg-${message.msg_id}`).describe().catch(() => undefined)), INGEST_WAIT_MS)
      .then(() => client.workflow.getHandle(`msg-${message.msg_id}`).result());
    // valid_arches = x86_64,armhfp from trigger.cfg; the rule names x86_64 only.
    assert.deepEqual(trigger.jobs.map((j) => j.workflowId), [`msg-${message.msg_id}/rpmlint/x86_64`]);

    writeFileSync(rules, '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: rpmlint}]\n');
    child.kill('SIGHUP');
    await until(() => `the bad edit to be refused:\n${output}`, () => output.includes('still running the previous 1 rule(s)'), INGEST_WAIT_MS);
    assert.match(output, /trigger_rules\.yml:2:16: error: \[0\]\.do\[0\]\.tasks: 'tasks' needs a non-empty list of task names/);
    writeFileSync(rules, `${rpmlintRule}- when: {message_type: KojiTagChanged}\n  do: [{tasks: [rpmdeplint]}]\n`);
    child.kill('SIGHUP');
    await until(() => `the new rules to load:\n${output}`, () => /SIGHUP: loaded 2 rule\(s\)|file changed: loaded 2 rule\(s\)/.test(output), INGEST_WAIT_MS);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    // JSON lines on a pipe: the counters are a field of the "stopped" line.
    assert.match(output, /"counters":\{[^}]*"matched":1[^}]*"started":1[^}]*\},"msg":"stopped"/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('taskotron replay: a JSON-lines file and a datagrepper range start what matches, nothing twice', { timeout: 120_000 }, async () => {
  const dir = scratchDir('cli-replay');
  const queue = uniqueName('cli-replay');
  const rules = join(dir, 'trigger_rules.yml');
  writeFileSync(rules, rpmlintRule);
  const [a, b] = [build(), build()];
  const lines = join(dir, 'messages.jsonl');
  writeFileSync(lines, `${JSON.stringify(a)}\n${JSON.stringify({ ...a, msg: { ...a.msg, new: 0 }, msg_id: `${a.msg_id}-started` })}\nnot json\n${JSON.stringify(b)}\n`);
  const first = taskotron('replay', lines, '--rules', rules, '--trigger-queue', queue, '--job-queue', queue);
  assert.equal(first.status, 0, first.stderr);
  const stats = JSON.parse(first.stdout) as Record<string, number>;
  assert.equal(stats.started, 2);
  assert.equal(stats.ignored, 1);
  assert.equal(stats['rejected.bad-shape'], 1);
  for (const m of [a, b]) assert.ok(await client.workflow.getHandle(`msg-${m.msg_id}`).describe());
  // The corpus messages are from 2015: beyond the namespace's retention, where dedup by ID no longer holds.
  assert.match(first.stderr, /the replay of \S*messages\.jsonl reaches back to 2015-\S+, beyond namespace default's retention of \d+(\.\d+)? h/);

  const t0 = Math.floor(Date.now() / 1000) - 600;
  const c = { ...build(), timestamp: t0 + 10 };
  const datagrepper = await startDatagrepper([{ ...a, timestamp: t0 + 5 }, c, { ...build(), timestamp: t0 + 500 }]);
  try {
    const second = await taskotronAsync('replay', '--datagrepper', datagrepper.url, '--start', String(t0), '--end', new Date((t0 + 60) * 1000).toISOString(), '--rules', rules, '--trigger-queue', queue, '--job-queue', queue);
    assert.equal(second.status, 0, second.stderr);
    const replayed = JSON.parse(second.stdout) as Record<string, number>;
    assert.equal(replayed.started, 1, second.stdout);
    assert.equal(replayed['already-started'], 1, 'the message replayed before is refused by Temporal');
    assert.doesNotMatch(second.stderr, /retention/, 'a range inside the retention warns of nothing');
    assert.ok(await client.workflow.getHandle(`msg-${c.msg_id}`).describe());
  } finally {
    await datagrepper.close();
  }
});
