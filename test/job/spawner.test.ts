// The runner's spawner (src/activities/spawner.ts), the process that starts runSupervised's
// commands: that the default path goes through it, and its own failure modes — the spawner killed
// in the middle of a command, and the runner killed (a child Node process plays the runner here).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { noSandbox, type SandboxSpec } from '../../src/activities/sandbox.js';
import { SPAWNER_SCRIPT, spawnerPid, stopSpawner } from '../../src/activities/spawner.js';
import { runSupervised, type SupervisedCommand, type SupervisedResult } from '../../src/activities/supervise.js';
import { projectRoot } from '../../src/devserver/project.js';
import { localJob, runJobToEnd, startTestRunner } from '../support/job.js';
import { pidsMatching, processAlive } from '../support/processes.js';
import { testClient } from '../support/temporal.js';
import { until, waitFor } from '../support/until.js';

function supervise(command: SupervisedCommand): Promise<SupervisedResult> {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(runSupervised, command) as Promise<SupervisedResult>;
}

/** Parent pid and process group of a process, from /proc/<pid>/stat. */
function parentAndGroup(pid: number): { ppid: number; pgid: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return { ppid: Number(fields[1]), pgid: Number(fields[2]) };
}

function uniqueSleep(): string {
  return `${300 + Math.floor(Math.random() * 1000)}.${process.pid}`;
}

describe('the spawner', () => {
  test('commands are started by the spawner, each in its own process group; the spawner is in its own group too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-spawner-'));
    const result = await supervise({ argv: ['sh', '-c', 'cat /proc/$$/stat'], cwd: dir });
    const [pid, , , ppid, pgid] = result.stdout.replace(/\(.*\)/, 'x').split(' ').map(Number);
    const spawner = spawnerPid();
    assert.ok(spawner !== undefined && processAlive(spawner), 'a spawner runs');
    assert.equal(ppid, spawner, 'the command is a child of the spawner, not of the runner');
    assert.equal(pgid, pid, 'the command leads its own process group');
    assert.equal(parentAndGroup(spawner).ppid, process.pid);
    assert.equal(parentAndGroup(spawner).pgid, spawner, "a Ctrl-C to the runner's group does not reach the spawner");
  });

  test('a spawner killed mid-command fails the step clearly, kills its group, and the next command starts a new spawner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-spawner-'));
    await supervise({ argv: ['true'], cwd: dir });
    const first = spawnerPid()!;
    const sleep = uniqueSleep();
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    // The runner must know the command's pid before the spawner dies, or this is the other test's
    // case (the pid never arrived; the command is found by its marker instead). Seeing the sleeps
    // in /proc is not enough: on a loaded machine the spawner may not yet have sent the pid. The
    // first heartbeat (after HEARTBEAT_INTERVAL_MS) carries the pid the runner holds.
    let pidHeard = false;
    env.on('heartbeat', (details: { pid?: number }) => {
      if (details?.pid !== undefined) pidHeard = true;
    });
    const running = env.run(runSupervised, { argv: ['sh', '-c', `sleep ${sleep} & sleep ${sleep}`], cwd: dir, logFile: join(dir, 'log') });
    await until('both sleeps to run and the runner to hold their pid', () => pidHeard && pidsMatching(`sleep ${sleep}`).length >= 2, 10_000);
    process.kill(first, 'SIGKILL');
    await assert.rejects(running, /^Error: the runner's spawner process \d+ was killed by SIGKILL while running sh; its process group \d+ was killed$/);
    await until('every process of the group to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
    const next = await supervise({ argv: ['echo', 'again'], cwd: dir });
    assert.deepEqual([next.exitCode, next.stdout], [0, 'again\n']);
    assert.notEqual(spawnerPid(), first, 'a new spawner');
  });

  test('a command cancelled before the spawner has said its pid is killed once the pid arrives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-spawner-'));
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const sleep = uniqueSleep();
    const running = env.run(runSupervised, { argv: ['sh', '-c', `sleep ${sleep} & sleep ${sleep}`], cwd: dir, logFile: join(dir, 'log'), killGraceMs: 500 });
    env.cancel();
    await assert.rejects(running, CancelledFailure);
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /cancelled \(.*\): SIGTERM to process group \d+/);
    await until('every process of the group to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test('a spawner that dies before it says the pid: the command is found by its marker and killed, unsandboxed or sandbox none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-spawner-'));
    for (const sub of ['tmp', 'home']) mkdirSync(join(dir, sub));
    const spec: SandboxSpec = { writable: [dir], readable: [], tmp: join(dir, 'tmp'), home: join(dir, 'home'), hideDirs: [], hideFiles: [], network: true };
    for (const sandbox of [undefined, { backend: noSandbox, spec }]) {
      const before = spawnerPid();
      stopSpawner();
      if (before !== undefined) await until('the spawner to exit', () => !processAlive(before), 5_000);
      process.env.TASKOTRON_SPAWNER_FAULT = 'die-before-pid';
      const sleep = uniqueSleep();
      try {
        // A daemon too: the group kill would not reach it even had the pid arrived.
        const running = supervise({ argv: ['sh', '-c', `setsid sleep ${sleep} & sleep ${sleep}`], cwd: dir, ...(sandbox ? { sandbox } : {}) });
        await assert.rejects(running, (error: Error) => {
          assert.match(error.message, /^the runner's spawner process \d+ was killed by SIGKILL while running sh; [1-3] process\(es\) of the command, found by their TASKOTRON_COMMAND_ID, were killed$/);
          return true;
        });
      } finally {
        delete process.env.TASKOTRON_SPAWNER_FAULT;
      }
      await until(() => `every process of the command to die (sandbox ${sandbox ? 'none' : 'absent'})`, () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
    }
    const next = await supervise({ argv: ['echo', 'again'], cwd: dir });
    assert.deepEqual([next.exitCode, next.stdout], [0, 'again\n'], 'the next command starts a spawner without the fault');
  });

  test('TASKOTRON_SPAWNER=direct makes the runner spawn the command itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-spawner-'));
    process.env.TASKOTRON_SPAWNER = 'direct';
    try {
      const result = await supervise({ argv: ['sh', '-c', 'cat /proc/$$/stat; echo err >&2'], cwd: dir, logFile: join(dir, 'log') });
      assert.equal(Number(result.stdout.replace(/\(.*\)/, 'x').split(' ')[3]), process.pid);
      assert.equal(result.stderrTail, 'err\n');
      assert.match(readFileSync(join(dir, 'log'), 'utf8'), /\nerr\n\[taskotron\] exit code 0 after \d+ ms\n$/);
    } finally {
      delete process.env.TASKOTRON_SPAWNER;
    }
  });
});

/**
 * A stand-in runner: a Node process that starts one command through its own spawner, prints the
 * spawner's pid and the command's, and then either waits (to be killed) or just returns.
 */
function startRunner(argv: string[], then: 'wait' | 'return') {
  const compiled = process.env.TASKOTRON_TEST_CLI === 'dist';
  const module = pathToFileURL(join(projectRoot(), compiled ? 'dist/src/activities/spawner.js' : 'src/activities/spawner.ts')).href;
  const script = `const { currentSpawner, spawnerPid } = await import(${JSON.stringify(module)});
const spawner = await currentSpawner();
const command = spawner.run({ file: ${JSON.stringify(argv[0])}, args: ${JSON.stringify(argv.slice(1))}, cwd: '/', env: process.env, maxStdoutBytes: 1024, stderrTailBytes: 1024 }, (pid) => console.log(JSON.stringify({ spawner: spawnerPid(), pid })));
${then === 'wait' ? 'await command.ended; await new Promise(() => setInterval(() => undefined, 1000));' : "console.log(JSON.stringify(await command.ended));"}`;
  const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), '--input-type=module', '-e', script], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<{ spawner: number; pid: number }>((resolve, reject) => {
    const check = () => {
      const line = output.split('\n').find((l) => l.includes('"spawner"'));
      if (line) resolve(JSON.parse(line) as { spawner: number; pid: number });
    };
    child.stdout.on('data', check);
    void exited.then((code) => (check(), reject(new Error(`the runner exited (${code}) before its command started: ${output}`))));
  });
  return { child, started, exited, output: () => output };
}

describe('a spawner that cannot start', () => {
  test('the runner says so once and spawns its commands itself from then on', async () => {
    const compiled = process.env.TASKOTRON_TEST_CLI === 'dist';
    const module = pathToFileURL(join(projectRoot(), compiled ? 'dist/src/activities/spawner.js' : 'src/activities/spawner.ts')).href;
    const script = `const { currentSpawner, spawnerWanted } = await import(${JSON.stringify(module)});
const first = await currentSpawner('/nonexistent/node');
const second = await currentSpawner('/nonexistent/node');
console.log(JSON.stringify({ started: first !== undefined || second !== undefined, wanted: spawnerWanted() }));`;
    const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), '--input-type=module', '-e', script], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    assert.equal(await new Promise((resolve) => child.once('close', resolve)), 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { started: false, wanted: false });
    assert.equal(stderr, 'taskotron: cannot start the command spawner (spawn /nonexistent/node ENOENT); the runner spawns its commands itself\n');
  });
});

describe('a runner that dies', () => {
  test('a runner killed with SIGKILL: its spawner kills the running command group and exits', async () => {
    const sleep = uniqueSleep();
    const runner = startRunner(['sh', '-c', `sleep ${sleep} & sleep ${sleep}`], 'wait');
    const { spawner, pid } = await runner.started;
    await until('both sleeps to run', () => pidsMatching(`sleep ${sleep}`).length >= 2);
    assert.equal(parentAndGroup(pid).ppid, spawner);
    runner.child.kill('SIGKILL');
    await runner.exited;
    await until('the spawner to exit', () => !processAlive(spawner), 5_000);
    await until("every process of the command's group to die", () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test('a runner whose work is done exits by itself: the idle spawner keeps nothing alive and leaves with it', async () => {
    const runner = startRunner(['echo', 'done'], 'return');
    const { spawner } = await runner.started;
    assert.equal(await runner.exited, 0, runner.output());
    assert.match(runner.output(), /"stdout":"done\\n"/);
    await until('the spawner to exit', () => !processAlive(spawner), 5_000);
  });
});

describe('runner workers in one process (npm start, runtask, tests)', () => {
  test('the spawner lives while any of them runs and leaves with the last one to stop; the next command starts a new one', async () => {
    const { client, close } = await testClient();
    const a = await startTestRunner();
    const b = await startTestRunner();
    try {
      const { result } = await runJobToEnd(client, a, localJob(a, 'quick'));
      assert.equal(result.outcome, 'PASSED', result.reason);
      const spawner = spawnerPid();
      assert.ok(spawner !== undefined && processAlive(spawner), "the job's step went through a spawner");
      await a.stop();
      assert.equal(spawnerPid(), spawner, 'another runner still runs: the spawner stays');
      assert.ok(processAlive(spawner));
      await b.stop();
      assert.equal(spawnerPid(), undefined, 'the last runner stopped it');
      await until('the spawner to exit', () => !processAlive(spawner), 5_000);
      const next = await supervise({ argv: ['echo', 'again'], cwd: tmpdir() });
      assert.deepEqual([next.exitCode, next.stdout], [0, 'again\n']);
      assert.notEqual(spawnerPid(), spawner, 'a new spawner');
    } finally {
      await a.stop();
      await b.stop();
      await close();
    }
  });
});

describe('a spawner on a host without /proc', () => {
  test('it cannot list what it inherited, so closes nothing, and runs commands as before', async () => {
    // The spawner's own script, in a bwrap whose /proc is an empty tmpfs: its first act, listing
    // /proc/self/fd to close what the runner's parent left open, finds nothing to go by.
    const spawner = spawn('bwrap', ['--die-with-parent', '--unshare-user', '--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', '--tmpfs', '/proc', '--', process.execPath, '-e', SPAWNER_SCRIPT, '60000'], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    spawner.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const received: Array<{ t: string; id?: number; code?: number; stdout?: string }> = [];
    spawner.on('message', (message: (typeof received)[number]) => received.push(message));
    const message = (what: string, match: (message: (typeof received)[number]) => boolean) =>
      waitFor(() => `${what}; got ${JSON.stringify(received)}; stderr ${stderr}`, () => {
        const found = received.find(match);
        if (!found && spawner.exitCode !== null) throw new Error(`the spawner exited (${spawner.exitCode}) before ${what}: ${stderr}`);
        return found;
      });
    // 'exit', not 'close': a child whose IPC channel we disconnected never emits 'close' (Node 20).
    const exited = new Promise<number | null>((resolve) => spawner.once('exit', (code) => resolve(code)));
    try {
      await message('ready', (m) => m.t === 'ready');
      spawner.send({ t: 'run', id: 1, file: '/bin/sh', args: ['-c', 'echo "no /proc: $(ls -A /proc | wc -l) entries"; exit 3'], cwd: '/', env: { PATH: '/usr/bin:/bin' }, maxStdoutBytes: 1000, stderrTailBytes: 1000 });
      await message('the command to start', (m) => m.t === 'started' && m.id === 1);
      const closed = await message('the command to close', (m) => m.t === 'closed' && m.id === 1);
      assert.deepEqual([closed.code, closed.stdout], [3, 'no /proc: 0 entries\n']);
      spawner.disconnect();
      assert.equal(await exited, 0, stderr);
    } finally {
      spawner.kill('SIGKILL');
    }
  });
});
