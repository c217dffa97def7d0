// The Prometheus endpoints of the two production processes, scraped for real: `taskotron worker`
// runs a job and `taskotron ingest` decides messages, each as its own process with --metrics-listen
// on a free port; one scrape shows our metrics, the Node process's and the Temporal SDK runtime's.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { JOB_WORKFLOW } from '../../src/common/job.js';
import { freePort } from '../../src/devserver/server.js';
import { projectRoot } from '../../src/devserver/project.js';
import { parseListen } from '../../src/metrics/endpoint.js';
import { corpusEnvelope } from '../ingest/corpus.js';
import { publishTo, INGEST_WAIT_MS } from '../ingest/support.js';
import { until } from '../support/until.js';
import { localJob } from '../support/job.js';
import { testAddress, testClient, uniqueName } from '../support/temporal.js';
import { cliArgs } from '../support/cli.js';

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** Starts `taskotron <args>` and resolves once its log says `ready` (a line containing it). */
function startCli(args: string[], ready: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [...cliArgs(), ...args], {
    cwd: projectRoot(),
    env: { ...process.env, TEMPORAL_ADDRESS: testAddress() },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve({ child, output: () => output });
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`taskotron ${args[0]} exited (${code}):\n${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

async function scrape(url: string): Promise<{ type: string | null; text: string }> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return { type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one sample, e.g. `name{a="b"}`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

test('the runner endpoint: steps timed by directive, slots, jobs by task and outcome, process and Temporal SDK metrics', { timeout: 120_000 }, async () => {
  const arch = uniqueName('arch');
  const workflowQueue = uniqueName('workflows');
  const hostname = uniqueName('metrics-host');
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'taskotron-metrics-'));
  const { child } = await startCli(
    ['worker', '--arch', arch, '--hostname', hostname, '--workflow-queue', workflowQueue, '--root', root, '--concurrency', '3', '--shutdown-grace', '1', '--metrics-listen', `127.0.0.1:${port}`],
    'metrics on',
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  const before = await scrape(url);
  assert.match(before.type ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(before.text, 'taskotron_runner_slots', { host: hostname, arch }), 3);
  assert.equal(sample(before.text, 'taskotron_runner_slots_in_use'), 0);

  const { client, close } = await testClient();
  let outcome: string;
  try {
    const handle = await client.workflow.start(JOB_WORKFLOW, { taskQueue: workflowQueue, workflowId: uniqueName('job-reports'), args: [localJob({ arch }, 'reports')] });
    outcome = await handle.result().then(
      (r: { outcome: string }) => r.outcome,
      (error: unknown) => ((error as WorkflowFailedError).cause as { details?: { outcome: string }[] }).details![0]!.outcome,
    );
  } finally {
    await close();
  }

  const after = await scrape(url);
  const text = after.text;
  assert.equal(sample(text, 'taskotron_runner_action_duration_seconds_count', { directive: 'shell', outcome: 'passed' }), 1);
  assert.equal(sample(text, 'taskotron_runner_action_duration_seconds_count', { directive: 'xunit', outcome: 'passed' }), 2);
  assert.equal(sample(text, 'taskotron_runner_step_duration_seconds_count', { step: 'prepareWorkspace', outcome: 'passed' }), 1);
  assert.equal(sample(text, 'taskotron_runner_slots_in_use'), 0);
  assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'the Node process metrics');
  // The Temporal SDK runtime's own metrics, and the job counted by the workflow through its meter.
  assert.ok((sample(text, 'temporal_workflow_completed_total', { task_queue: workflowQueue }) ?? 0) >= 1, text);
  assert.equal(sample(text, 'taskotron_runner_jobs_total', { task: 'reports', arch, outcome }), 1, text);
  assert.equal(await stop(child), 0);
});

test('the ingest endpoint: messages by outcome and reason, starts, spool depth, backfill lag, rule evaluation time', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-metrics-ingest-'));
  const queue = uniqueName('metrics-ingest');
  writeFileSync(join(dir, 'trigger_rules.yml'), '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint], arches: [x86_64]}]\n');
  const [busPort, port] = [await freePort(), await freePort()];
  const endpoint = `tcp://127.0.0.1:${busPort}`;
  const { child } = await startCli(
    ['ingest', '--rules', join(dir, 'trigger_rules.yml'), '--bind', endpoint, '--trigger-queue', queue, '--ingest-queue', queue, '--job-queue', queue, '--state-dir', join(dir, 'state'), '--metrics-listen', `127.0.0.1:${port}`],
    'metrics on',
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  const build = corpusEnvelope('buildsys.build.state.change__TestKojiBuildStateChangeComplete.json', `2026-${crypto.randomUUID()}`);
  const stranger = { ...build, msg_id: `2026-${crypto.randomUUID()}`, topic: 'org.fedoraproject.prod.nobody.listens.here' };
  await publishTo(endpoint, [build, build, stranger]);
  await until('three messages counted', async () => sample((await scrape(url)).text, 'taskotron_ingest_messages_received_total') === 3, INGEST_WAIT_MS);
  await until('the start counted', async () => sample((await scrape(url)).text, 'taskotron_ingest_workflow_starts_total', { result: 'started' }) === 1, 30_000);

  const { text } = await scrape(url);
  assert.equal(sample(text, 'taskotron_ingest_messages_total', { outcome: 'matched', reason: '' }), 1);
  assert.equal(sample(text, 'taskotron_ingest_messages_total', { outcome: 'duplicate', reason: '' }), 1);
  assert.equal(sample(text, 'taskotron_ingest_messages_total', { outcome: 'rejected', reason: 'unknown-topic' }), 1);
  assert.equal(sample(text, 'taskotron_ingest_spool_depth'), 0);
  assert.equal(sample(text, 'taskotron_ingest_pending_starts'), 0);
  assert.equal(sample(text, 'taskotron_ingest_backfill_lag_seconds'), 0);
  assert.equal(sample(text, 'taskotron_ingest_temporal_available'), 1);
  assert.equal(sample(text, 'taskotron_ingest_rules'), 1);
  assert.equal(sample(text, 'taskotron_ingest_rule_evaluation_seconds_count'), 1);
  assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0);
  assert.match(text, /^temporal_\w+/m, 'the Temporal SDK runtime metrics');
  assert.equal(await stop(child), 0);
});

test('a listen address is host:port; anything else names the setting', () => {
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('[::1]:9465'), { host: '::1', port: 9465 });
  assert.deepEqual(parseListen(':9464'), { host: '0.0.0.0', port: 9464 });
  assert.throws(() => parseListen('localhost', 'metrics.ingest_listen'), /metrics\.ingest_listen: 'localhost' is not host:port/);
});
