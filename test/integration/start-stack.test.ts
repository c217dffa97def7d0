// `npm start`'s stack as a user sees it: the real CLI in a child process brings up the Temporal dev
// server with its Web UI, a polling worker and the ingest; `taskotron publish` of the example message
// starts its trigger and job workflows; Ctrl-C (SIGINT) leaves no process behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createServer } from 'node:net';
import { freePort } from '../../src/devserver/server.js';
import { portTaken } from '../../src/devserver/ports.js';
import { projectRoot } from '../../src/devserver/project.js';
import { cliArgs } from '../support/cli.js';
import { processAlive } from '../support/processes.js';

function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number, number]);
  const found = new Set<number>([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of table) {
      if (found.has(parent) && !found.has(child)) {
        found.add(child);
        grew = true;
      }
    }
  }
  found.delete(pid);
  return [...found];
}

/** Free ports, all different: the kernel may hand out a just-closed port twice in a row. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count && tries < count * 10; tries++) ports.add(await freePort());
  assert.equal(ports.size, count, 'distinct free ports');
  return [...ports];
}

test('taskotron start serves the Web UI, runs a worker and the ingest, and Ctrl-C stops every process it started', { timeout: 150_000 }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'taskotron-start-'));
  const [port, uiPort, fedmsgPort, ingestMetrics, runnerMetrics, artifactsPort] = await distinctFreePorts(6);
  const runnerRoot = mkdtempSync(join(tmpdir(), 'taskotron-start-runner-'));
  const child = spawn(process.execPath, [...cliArgs(), 'start', '--port', String(port), '--ui-port', String(uiPort), '--fedmsg-port', String(fedmsgPort), '--state-dir', stateDir], {
    cwd: projectRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: '',
      // npm start's defaults are 127.0.0.1:9464 and :9465; a test takes free ports.
      TASKOTRON_METRICS_INGEST_LISTEN: `127.0.0.1:${ingestMetrics}`,
      TASKOTRON_METRICS_RUNNER_LISTEN: `127.0.0.1:${runnerMetrics}`,
      TASKOTRON_ARTIFACTS_LISTEN: `127.0.0.1:${artifactsPort}`,
      TASKOTRON_ARTIFACTS_BASEURL: '',
      TASKOTRON_RUNNER_ROOT: runnerRoot,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stack not ready within 90 s:\n${output}`)), 90_000);
      const check = () => {
        if (output.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      void exited.then(() => reject(new Error(`start exited early:\n${output}`)));
    });
    assert.match(output, new RegExp(`Temporal Web UI  http://127.0.0.1:${uiPort}`));
    assert.match(output, /Runner ready {5}\S+ \(/, 'the probe job ran through a polling worker');
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);

    assert.match(output, new RegExp(`Ingest ready {5}tcp://127.0.0.1:${fedmsgPort} \\(rules examples/trigger_rules.yml\\)`));
    assert.match(output, new RegExp(`Metrics {10}ingest http://127.0.0.1:${ingestMetrics}/metrics, runner http://127.0.0.1:${runnerMetrics}/metrics`));
    for (const [metricsPort, name] of [[ingestMetrics, 'taskotron_ingest_rules'], [runnerMetrics, 'taskotron_runner_slots']] as const) {
      let text = '';
      for (let i = 0; i < 100 && !text.includes(name); i++) {
        text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
        if (!text.includes(name)) await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(text, new RegExp(`^${name}`, 'm'));
      assert.match(text, /^temporal_\w+/m, 'the Temporal SDK runtime metrics on the same endpoint');
    }

    // What the README tells a newcomer to do: publish the example message and watch the job appear.
    const publish = spawnSync(process.execPath, [...cliArgs(), 'publish', '--endpoint', `tcp://127.0.0.1:${fedmsgPort}`, 'examples/messages/koji-build-completed.json'], {
      cwd: projectRoot(),
      encoding: 'utf8',
    });
    assert.equal(publish.status, 0, publish.stderr);
    const msgId = '2026-7f1b9a52-2c7e-4d53-9a8e-3b6f1c0d2e41';
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const client = new Client({ connection });
      const trigger = await client.workflow.getHandle(`msg-${msgId}`).result().catch(async (error: Error) => {
        // The ingest may take a moment to start it: retry until it exists.
        for (let i = 0; i < 100; i++) {
          await new Promise((r) => setTimeout(r, 200));
          try {
            return await client.workflow.getHandle(`msg-${msgId}`).result();
          } catch {
            /* not yet */
          }
        }
        throw error;
      }) as { jobs: Array<{ workflowId: string }> };
      assert.equal(trigger.jobs.length, 1);
      const job = await client.workflow.getHandle(trigger.jobs[0]!.workflowId).describe();
      assert.equal(job.type, 'runJob');
      // Its logs are on the local artifacts server, linked from the job's result.
      assert.match(output, new RegExp(`Artifacts {8}http://127.0.0.1:${artifactsPort}/`));
      const finished = (await client.workflow.getHandle(trigger.jobs[0]!.workflowId).result().catch((e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0])) as {
        actions: { logUrl?: string }[];
      };
      const logUrl = finished.actions.find((a) => a.logUrl)?.logUrl;
      assert.ok(logUrl?.startsWith(`http://127.0.0.1:${artifactsPort}/`), JSON.stringify(finished.actions));
      const log = await fetch(logUrl!);
      assert.equal(log.status, 200);
      assert.equal(log.headers.get('content-type'), 'text/plain; charset=utf-8');
    } finally {
      await connection.close();
    }

    const started = descendants(child.pid!);
    assert.ok(started.length >= 3, `expected a server, a worker and an ingest process, saw ${started.join(', ')}`);
    child.kill('SIGINT');
    assert.equal(await exited, 0, output);
    // The banner's wait for the ingest is a real ZeroMQ handshake: nothing counted a failed one.
    const stopped = /"component":"ingest","counters":(\{[^}]*\}),"msg":"stopped"/.exec(output);
    assert.ok(stopped, `the ingest's last counters:\n${output}`);
    assert.equal((JSON.parse(stopped[1]!) as Record<string, number>)['fedmsg.handshake-failures'], 0, stopped[1]);
    const deadline = performance.now() + 10_000;
    while (started.some(processAlive) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(started.filter(processAlive), [], 'processes left behind after Ctrl-C');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(runnerRoot, { recursive: true, force: true });
  }
});

async function startArgs(stateDir: string): Promise<{ args: string[]; ports: number[] }> {
  const ports = await distinctFreePorts(3);
  const [port, uiPort, fedmsgPort] = ports as [number, number, number];
  return {
    args: [...cliArgs(), 'start', '--port', String(port), '--ui-port', String(uiPort), '--fedmsg-port', String(fedmsgPort), '--state-dir', stateDir],
    ports,
  };
}

test('Ctrl-C the moment the Web UI answers, before the banner, stops the server it started: no process and no port left', { timeout: 150_000 }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'taskotron-start-'));
  const { args, ports } = await startArgs(stateDir);
  const uiPort = ports[1]!;
  // Its own process group, as `npm start` in a terminal: Ctrl-C signals the whole group.
  const child = spawn(process.execPath, args, { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TEMPORAL_ADDRESS: '' }, detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = performance.now() + 90_000;
    let answered = false;
    while (!answered && performance.now() < deadline && child.exitCode === null) {
      answered = await fetch(`http://127.0.0.1:${uiPort}/`).then((r) => r.ok, () => false);
      if (!answered) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(answered, `the Web UI never answered:\n${output}`);
    const started = descendants(child.pid!);
    assert.ok(started.length >= 1, 'the Temporal server is running');
    process.kill(-child.pid!, 'SIGINT');
    assert.equal(await exited, 0, output);
    assert.doesNotMatch(output, /Press Ctrl-C to stop\./, 'interrupted before the banner');
    const until = performance.now() + 10_000;
    while (started.some(processAlive) && performance.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(started.filter(processAlive), [], `processes left behind:\n${output}`);
    for (const port of ports) assert.equal(await portTaken(port), false, `port ${port} still taken`);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a start whose port is taken refuses at once, naming the port and the process holding it, and starts nothing', { timeout: 60_000 }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'taskotron-start-'));
  const { args, ports } = await startArgs(stateDir);
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(ports[0], '127.0.0.1', resolve));
  try {
    const result = spawnSync(process.execPath, args, { cwd: projectRoot(), encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '' } });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`taskotron start: port ${ports[0]} \\(Temporal gRPC\\) on 127\\.0\\.0\\.1 is already in use by pid ${process.pid} \\(`));
    assert.match(result.stderr, /stop it or choose another port with --port/);
    assert.equal(await portTaken(ports[1]!), false, 'no Web UI was started');
  } finally {
    holder.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
