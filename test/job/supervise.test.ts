// runSupervised, the one way a runner runs a process, with real processes (MockActivityEnvironment
// supplies the activity context and records heartbeats): heartbeats while it runs, time limits and
// cancellation kill the whole group, a sandboxed command sees only its own environment, and a wait
// that is not a process (the mirror lock) heartbeats too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { bubblewrap, noSandbox, type SandboxSpec } from '../../src/activities/sandbox.js';
import { forksSinceBoot, heartbeatWhile, killLeftovers, pidWindow, runSupervised, type SupervisedCommand, type SupervisedResult } from '../../src/activities/supervise.js';
import { pidsMatching } from '../support/processes.js';
import { until } from '../support/until.js';

function environment(heartbeats: unknown[] = []): MockActivityEnvironment {
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return env;
}

function supervise(env: MockActivityEnvironment, command: SupervisedCommand): Promise<SupervisedResult> {
  return env.run(runSupervised, command) as Promise<SupervisedResult>;
}



/** A sleep with a duration no other process on this machine has, so the test can find it. */
function uniqueSleep(): string {
  return `${300 + Math.floor(Math.random() * 1000)}.${process.pid}`;
}

function spec(dir: string): SandboxSpec {
  for (const sub of ['tmp', 'home', 'work']) mkdirSync(join(dir, sub), { recursive: true });
  return { writable: [join(dir, 'work')], readable: [], tmp: join(dir, 'tmp'), home: join(dir, 'home'), hideDirs: [], hideFiles: [], network: true };
}

describe('runSupervised', () => {
  test('heartbeats while the command runs, with its pid and elapsed time, and logs its output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    const heartbeats: { pid?: number; elapsedMs?: number; step?: string }[] = [];
    const env = environment(heartbeats);
    const gate = join(dir, 'gate');
    const command: SupervisedCommand = {
      argv: ['sh', '-c', 'echo started; while [ ! -e "$1" ]; do sleep 0.05; done; echo done >&2', 'sh', gate],
      cwd: dir,
      logFile: join(dir, 'log'),
      progress: { step: 'waiting' },
    };
    const result = supervise(env, command);
    await until('three heartbeats', () => heartbeats.length >= 3);
    writeFileSync(gate, '');
    const { exitCode, stdout, stderrTail } = await result;
    assert.equal(exitCode, 0);
    assert.equal(stdout, 'started\n');
    assert.equal(stderrTail, 'done\n');
    assert.ok(heartbeats.every((h) => h.step === 'waiting' && typeof h.pid === 'number'), JSON.stringify(heartbeats));
    assert.ok(heartbeats.at(-1)!.elapsedMs! >= 1_000, 'heartbeats keep coming while it runs');
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /^\$ "sh" "-c" .*\nstarted\ndone\n\[taskotron\] exit code 0 after \d+ ms\n$/);
  });

  test('a program or working directory that does not exist rejects, naming which; a signal and the output before it are kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    await assert.rejects(supervise(environment(), { argv: ['taskotron-no-such-program'], cwd: dir }), /^Error: cannot run taskotron-no-such-program: spawn taskotron-no-such-program ENOENT$/);
    await assert.rejects(supervise(environment(), { argv: ['true'], cwd: join(dir, 'gone') }), new RegExp(`cannot run true: .*ENOENT \\(its working directory ${join(dir, 'gone')} does not exist\\)$`));
    const killed = await supervise(environment(), { argv: ['sh', '-c', 'echo out; echo err >&2; kill -TERM $$'], cwd: dir, logFile: join(dir, 'log') });
    assert.deepEqual({ ...killed, durationMs: 0 }, { exitCode: 128, signal: 'SIGTERM', stdout: 'out\n', stdoutTruncated: false, stderrTail: 'err\n', durationMs: 0 });
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /\nout\nerr\n\[taskotron\] exit code 128 \(signal SIGTERM\) after \d+ ms\n$/);
  });

  test('a log that cannot be written fails the step with the reason, instead of passing with a log cut short', async () => {
    // /dev/full takes the open and refuses every write (ENOSPC), as a full disk would.
    await assert.rejects(supervise(environment(), { argv: ['echo', 'output'], cwd: tmpdir(), logFile: '/dev/full' }), /cannot write the log \/dev\/full: ENOSPC/);
  });

  test('output written by a background process that keeps the pipes open is waited for and kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    const result = await supervise(environment(), { argv: ['sh', '-c', '(sleep 0.3; echo late) & echo early'], cwd: dir });
    assert.equal(result.stdout, 'early\nlate\n');
  });

  test('a time limit kills the whole process group and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    const sleep = uniqueSleep();
    const result = await supervise(environment(), { argv: ['sh', '-c', `sleep ${sleep} & sleep ${sleep}`], cwd: dir, logFile: join(dir, 'log'), timeoutMs: 300, killGraceMs: 500 });
    assert.equal(result.timedOut, true);
    assert.notEqual(result.exitCode, 0);
    // Killed already; a dying process may take a moment to leave /proc.
    await until('the background sleep to die with its group', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /time limit of 300 ms reached: SIGTERM to process group/);
  });

  test('cancelling kills the whole process group and rejects with CancelledFailure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    const sleep = uniqueSleep();
    const env = environment();
    const result = supervise(env, { argv: ['sh', '-c', `sleep ${sleep} & sleep ${sleep}`], cwd: dir, killGraceMs: 500 });
    await until('both sleeps to run', () => pidsMatching(`sleep ${sleep}`).length >= 2);
    env.cancel();
    await assert.rejects(result, CancelledFailure);
    await until('every process of the group to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test("a sandboxed command gets only the environment it is given, never the runner's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    process.env.TASKOTRON_SUPERVISE_TEST_SECRET = 'runner-only';
    try {
      for (const backend of [noSandbox, bubblewrap]) {
        const result = await supervise(environment(), { argv: ['env'], cwd: join(dir, 'work'), env: { PATH: '/usr/bin:/bin', ONLY: 'this' }, sandbox: { backend, spec: spec(dir) } });
        assert.equal(result.exitCode, 0, result.stderrTail);
        const names = result.stdout.trim().split('\n').map((line) => line.split('=')[0]).sort();
        // bwrap sets PWD for its --chdir; none marks the command to find its leftovers.
        const expected = ['HOME', 'ONLY', 'PATH', 'TMPDIR', ...(backend.name === 'none' ? ['TASKOTRON_COMMAND_ID'] : ['PWD'])].sort();
        assert.deepEqual(names, expected, `${backend.name}: ${result.stdout}`);
      }
      // The runner's own tools keep the runner's environment.
      const own = await supervise(environment(), { argv: ['env'], cwd: dir });
      assert.match(own.stdout, /^TASKOTRON_SUPERVISE_TEST_SECRET=runner-only$/m);
    } finally {
      delete process.env.TASKOTRON_SUPERVISE_TEST_SECRET;
    }
  });

  test('inside bubblewrap the host is read-only, the job dirs writable, and the command is pid 2 of its own namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    const script = 'echo $$; touch /etc/taskotron-supervise-test 2>/dev/null && echo wrote-etc; touch "$1/x" && echo wrote-work; touch /tmp/y && echo wrote-tmp';
    const result = await supervise(environment(), { argv: ['sh', '-c', script, 'sh', join(dir, 'work')], cwd: join(dir, 'work'), env: { PATH: '/usr/bin:/bin' }, sandbox: { backend: bubblewrap, spec: spec(dir) } });
    assert.equal(result.stdout, '2\nwrote-work\nwrote-tmp\n', result.stderrTail);
    assert.ok(!existsSync('/etc/taskotron-supervise-test'));
    assert.ok(existsSync(join(dir, 'tmp', 'y')), "the sandbox's /tmp is the job's tmp dir on the host");
  });
});

describe('leftovers of a command without a PID namespace (sandbox none)', () => {
  test('a setsid daemon the command leaves behind is killed when the command ends, and the log says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-supervise-'));
    const sleep = uniqueSleep();
    // The command ends only once the daemon is in its own session (it wrote its pid from there).
    const script = `setsid sh -c 'echo $$ > "$1"; exec sleep ${sleep}' sh "$1" </dev/null >/dev/null 2>&1 & while [ ! -s "$1" ]; do sleep 0.01; done; echo started`;
    const pidFile = join(dir, 'daemon.pid');
    const command: SupervisedCommand = { argv: ['sh', '-c', script, 'sh', pidFile], cwd: join(dir, 'work'), env: { PATH: '/usr/bin:/bin' }, logFile: join(dir, 'log'), timeoutMs: 20_000, sandbox: { backend: noSandbox, spec: spec(dir) } };
    const result = await supervise(environment(), command);
    assert.equal(result.exitCode, 0, result.stderrTail);
    assert.equal(result.stdout, 'started\n');
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /killed 1 process\(es\) the command left behind outside its process group/);
    await until('the daemon to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test('the pids created since a command started: a range of the cyclic pid space, or every pid once the allocator may have come round', () => {
    const plain = pidWindow(1000, 1005, 7, 200, 32768)!;
    assert.deepEqual([999, 1000, 1001, 1005, 1006].map(plain), [false, false, true, true, false]);
    // The allocator wrapped from pid_max back to the bottom meanwhile.
    const wrapped = pidWindow(32760, 310, 70, 200, 32768)!;
    assert.deepEqual([32759, 32760, 32761, 32767, 300, 310, 311, 5000].map(wrapped), [false, false, true, true, true, true, false, false]);
    // Half the range created (or alive): it may have gone round and passed the command's pid again.
    assert.equal(pidWindow(1000, 1005, 16_000, 300, 32768), undefined);
    assert.equal(pidWindow(1000, 1005, 10, 16_300, 32768), undefined);
    assert.equal(pidWindow(1000, Number.NaN, 10, 300, 32768), undefined, 'an unreadable /proc/loadavg means every pid');
    assert.equal(pidWindow(1000, 1005, Number.NaN, 300, 32768), undefined, 'an unreadable /proc/stat means every pid');
  });

  test('the windowed scan reads only processes created after the command; without a window every process is read', async () => {
    const id = randomUUID();
    const marker = `TASKOTRON_COMMAND_ID=${id}`;
    const sleep = uniqueSleep();
    const start = (): ChildProcess => spawn('sleep', [sleep], { detached: true, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', TASKOTRON_COMMAND_ID: id } });
    const older = start();
    await until('the older process to run', () => pidsMatching(`sleep ${sleep}`).length === 1);
    const forksBefore = forksSinceBoot();
    const command = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => command.once('exit', resolve));
    const newer = start();
    await until('the newer process to run', () => pidsMatching(`sleep ${sleep}`).length === 2);
    assert.equal(killLeftovers(marker, { afterPid: command.pid!, forksBefore }), 1, 'only the process created after the command');
    await until('the newer process to die', () => newer.exitCode !== null || newer.signalCode !== null);
    assert.equal(older.exitCode ?? older.signalCode, null, 'the process older than the command was not touched');
    assert.equal(killLeftovers(marker), 1, 'a scan without a window finds the older one too');
    await until('every marked process to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test("the scan leaves out the command's own process group, which was just killed as a whole", async () => {
    // A group member sent SIGKILL a moment ago may still be listed; it is not a leftover, and was
    // counted as one (seen as a spurious "1 process(es) … were killed" on a loaded machine).
    const id = randomUUID();
    const sleep = uniqueSleep();
    const env = { PATH: '/usr/bin:/bin', TASKOTRON_COMMAND_ID: id };
    const group = spawn('sh', ['-c', `sleep ${sleep} & exec sleep ${sleep}`], { detached: true, stdio: 'ignore', env });
    const outside = spawn('sleep', [sleep], { detached: true, stdio: 'ignore', env });
    await until('the group and the other process to run', () => pidsMatching(`sleep ${sleep}`).length === 3);
    assert.equal(killLeftovers(`TASKOTRON_COMMAND_ID=${id}`, undefined, group.pid), 1, 'only the process outside the group');
    await until('the process outside the group to die', () => outside.exitCode !== null || outside.signalCode !== null);
    assert.equal(pidsMatching(`sleep ${sleep}`).length, 2, "the group's two processes were left to the group kill");
    process.kill(-group.pid!, 'SIGKILL');
    await until('the group to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });
});

describe('heartbeatWhile', () => {
  test('heartbeats while waiting for something that is not a process, and rejects at once when cancelled', async () => {
    const heartbeats: { waiting?: string }[] = [];
    let release!: () => void;
    const lock = new Promise<void>((resolve) => (release = resolve));
    const env = environment(heartbeats);
    const waited = env.run(() => heartbeatWhile(lock.then(() => 'got it'), { waiting: 'mirror lock' }));
    await until('two heartbeats', () => heartbeats.length >= 2);
    release();
    assert.equal(await waited, 'got it');
    assert.ok(heartbeats.every((h) => h.waiting === 'mirror lock'));

    const never = new Promise<never>(() => undefined);
    const cancelled = environment();
    const waiting = cancelled.run(() => heartbeatWhile(never, { waiting: 'mirror lock' }));
    cancelled.cancel();
    await assert.rejects(waiting, CancelledFailure);
  });
});
