// Prestarted sandboxes (sandbox.ts Prestart, spawner.ts): after a sandboxed command, the spawner
// sets up the next sandbox of the same kind, and the job's next command runs in it. What a command
// sees must not depend on whether its sandbox was set up before it came or when it came: the same
// environment, argv, exit code, output, stdin and a PID namespace of its own. A waiting sandbox that
// has gone stale (a directory it binds was made anew) is not used; none outlives its wait, its job or
// its spawner.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { defaultRunnerConfig, type RunnerConfig } from '../../src/activities/runner-config.js';
import { bubblewrap, shellWord, taskSandbox, type SandboxSpec, type TaskSandbox } from '../../src/activities/sandbox.js';
import { createWorkspaceActivities, type Workspace } from '../../src/activities/workspace.js';
import { forgetSandboxes, spawnerPid, stopSpawner } from '../../src/activities/spawner.js';
import { runSupervised, type SupervisedCommand, type SupervisedResult } from '../../src/activities/supervise.js';
import { pidsMatching, processAlive } from '../support/processes.js';
import { until } from '../support/until.js';

function environment(): MockActivityEnvironment {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
}

function supervise(command: SupervisedCommand, env = environment()): Promise<SupervisedResult> {
  return env.run(runSupervised, command) as Promise<SupervisedResult>;
}


function spec(dir: string): SandboxSpec {
  for (const sub of ['tmp', 'home', 'work']) mkdirSync(join(dir, sub), { recursive: true });
  return { writable: [join(dir, 'work')], readable: [], tmp: join(dir, 'tmp'), home: join(dir, 'home'), hideDirs: [], hideFiles: [], network: false };
}

/** The spawner's children that bind `dir`'s workdir: sandboxes waiting for a command there. */
function waitingUnder(dir: string): number[] {
  return pidsMatching(join(dir, 'work')).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('bwrap\0') && Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === spawnerPid();
    } catch {
      return false;
    }
  });
}

/** The waiting sh of the sandboxes set up in `cwd`. */
function stubsIn(cwd: string): number[] {
  return pidsMatching('IFS= read -r line').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sh\0') && readlinkSync(`/proc/${pid}/cwd`) === cwd;
    } catch {
      return false;
    }
  });
}

function sandboxed(dir: string, argv: string[], env: Record<string, string> = { PATH: '/usr/bin:/bin' }): SupervisedCommand {
  return { argv, cwd: join(dir, 'work'), env, sandbox: { backend: bubblewrap, spec: spec(dir) }, logFile: join(dir, 'log') };
}

describe('prestarted sandboxes', () => {
  test('the second command of a kind runs in a sandbox set up for it, and sees exactly what a fresh one shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    // Quotes, a newline, spaces, '=' and non-ASCII in the arguments and the environment.
    const env = { PATH: '/usr/bin:/bin', ODD: "it's\na \"test\" = $HOME `x` \\", LANG: 'C.UTF-8', EMPTY: '' };
    const script = 'printf "%s|" "$0" "$@"; echo; env | LC_ALL=C sort; printf "[%s]\\n" "$ODD"; echo "pid $$"; cat; [ -t 0 ] || echo "stdin not a tty"; readlink /proc/self/fd/0; echo to-stderr >&2; exit 3';
    const argv = ['/bin/sh', '-c', script, 'zero', 'a b', "c'd", 'e\nf', 'g=h', 'ünï'];
    const first = await supervise(sandboxed(dir, argv, env));
    const second = await supervise(sandboxed(dir, argv, env));
    assert.equal(first.prestarted, undefined, 'the first command sets up its own sandbox');
    assert.equal(second.prestarted, true, 'the second one finds its sandbox waiting');
    assert.equal(first.exitCode, 3, first.stderrTail);
    assert.deepEqual([second.exitCode, second.stdout, second.stderrTail], [first.exitCode, first.stdout, first.stderrTail]);
    assert.match(first.stdout, /^zero\|a b\|c'd\|e\nf\|g=h\|ünï\|\n/);
    assert.match(first.stdout, /\n\[it's\na "test" = \$HOME `x` \\\]\n/);
    assert.match(first.stdout, /\nPWD=.*\/work\n/);
    assert.match(first.stdout, /\npid 2\nstdin not a tty\n\/dev\/null\n$/, 'pid 2 of its own PID namespace; stdin is /dev/null');
    // env(1) itself, not a shell, which would export PWD on its own.
    const printed = [await supervise(sandboxed(dir, ['/usr/bin/env'], env)), await supervise(sandboxed(dir, ['/usr/bin/env'], env))];
    assert.deepEqual(printed.map((result) => result.prestarted), [true, true]);
    const envDir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    const fresh = await supervise(sandboxed(envDir, ['/usr/bin/env'], env));
    assert.equal(fresh.prestarted, undefined);
    const lines = (result: SupervisedResult) => result.stdout.replaceAll(envDir, dir).split('\n').sort();
    assert.deepEqual(lines(printed[1]!), lines(fresh), 'the same variables as from a sandbox set up for the command, PWD included');
    assert.match(fresh.stdout, /^PWD=.*\/work$/m);
    const log = readFileSync(join(dir, 'log'), 'utf8');
    assert.equal(log.match(/^to-stderr$/gm)?.length, 2, 'both commands wrote their output to the log');
  });

  test('each command has a PID namespace of its own: what one left running is gone for the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const sleep = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const leaving = await supervise(sandboxed(dir, ['/bin/sh', '-c', `setsid sleep ${sleep} >/dev/null 2>&1 & echo started`]));
    assert.deepEqual([leaving.stdout, leaving.prestarted], ['started\n', true]);
    await until('the daemon to die with its sandbox', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
    const next = await supervise(sandboxed(dir, ['/bin/sh', '-c', 'pgrep -x sleep || echo none; echo $$']));
    assert.deepEqual([next.stdout, next.prestarted], ['none\n2\n', true]);
  });

  test('a program found in PATH runs in a prestarted sandbox; one the sandbox might not find sets up its own, with bwrap\'s own errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const found = await supervise(sandboxed(dir, ['sh', '-c', 'echo "$0"']));
    assert.deepEqual([found.exitCode, found.stdout, found.prestarted], [0, 'sh\n', true], 'argv[0] stays as given');
    const missing = await supervise(sandboxed(dir, ['no-such-program-here']));
    assert.deepEqual([missing.exitCode, missing.prestarted], [1, undefined], 'bwrap says it and exits 1, as without prestarting');
    assert.match(missing.stderrTail, /bwrap: execvp no-such-program-here: No such file or directory/);
    const absent = await supervise(sandboxed(dir, ['/nonexistent/program']));
    assert.deepEqual([absent.exitCode, absent.prestarted], [1, undefined]);
    // A relative PATH entry is the sandbox's working directory: left to bwrap.
    writeFileSync(join(dir, 'work', 'here'), '#!/bin/sh\necho here\n', { mode: 0o755 });
    const relative = await supervise(sandboxed(dir, ['here'], { PATH: '.:/usr/bin:/bin' }));
    assert.deepEqual([relative.stdout, relative.prestarted], ['here\n', undefined]);
    // A program in /tmp is the job's /tmp inside, not the host's.
    const inTmp = await supervise(sandboxed(dir, ['/tmp/x']));
    assert.equal(inTmp.prestarted, undefined);
    // The sandboxes set up after them were not set up in vain: the next command of the kind uses one.
    assert.equal((await supervise(sandboxed(dir, ['/bin/true']))).prestarted, true);
  });

  test('a waiting sandbox whose directories were made anew is not used; the command sees the new ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    // Its sh runs once bwrap has made every mount: from then on it holds the old directory.
    await until('the next sandbox to be set up', () => stubsIn(join(dir, 'work')).length === 1);
    rmSync(join(dir, 'work'), { recursive: true });
    mkdirSync(join(dir, 'work'));
    writeFileSync(join(dir, 'work', 'new'), 'the new workdir\n');
    const result = await supervise(sandboxed(dir, ['/bin/cat', 'new']));
    assert.deepEqual([result.exitCode, result.stdout, result.prestarted], [0, 'the new workdir\n', undefined], result.stderrTail);
  });

  test('cancelling a command in a prestarted sandbox kills it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const sleep = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const env = environment();
    const running = supervise({ ...sandboxed(dir, ['/bin/sh', '-c', `sleep ${sleep} & sleep ${sleep}`]), killGraceMs: 500 }, env);
    await until('both sleeps to run', () => pidsMatching(`sleep ${sleep}`).length >= 2);
    env.cancel();
    await assert.rejects(running, CancelledFailure);
    await until('every process of the sandbox to die', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test('no waiting sandbox outlives its wait, its job (forgetSandboxes) or the spawner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    await until('a sandbox to wait for the next command', () => waitingUnder(dir).length === 1);
    // The job ends: removeWorkdir forgets its sandboxes (long before their 30 s are over).
    forgetSandboxes(join(dir, 'work'));
    await until('the forgotten sandbox to go', () => waitingUnder(dir).length === 0, 10_000);

    // Nobody comes for it: it goes when its wait is over (30 s by default; 2 s from the next spawner on).
    const first = spawnerPid()!;
    stopSpawner();
    await until('the spawner to exit', () => !processAlive(first), 5_000);
    process.env.TASKOTRON_SANDBOX_PRESTART_IDLE_MS = '2000';
    try {
      await supervise(sandboxed(dir, ['/bin/true']));
    } finally {
      delete process.env.TASKOTRON_SANDBOX_PRESTART_IDLE_MS;
    }
    await until('a sandbox to wait', () => waitingUnder(dir).length === 1);
    const waited = Date.now();
    await until('the sandbox to stop waiting', () => waitingUnder(dir).length === 0, 10_000);
    assert.ok(Date.now() - waited >= 1_000, `it waited ${Date.now() - waited} ms, not its 2 s`);

    // The spawner goes (the runner exits): so do the sandboxes waiting in it.
    await supervise(sandboxed(dir, ['/bin/true']));
    await until('a sandbox to wait', () => waitingUnder(dir).length === 1);
    const [waiting] = waitingUnder(dir);
    const spawner = spawnerPid()!;
    stopSpawner();
    await until('the spawner to exit', () => !processAlive(spawner), 5_000);
    await until('its waiting sandbox to die', () => !processAlive(waiting!), 5_000);
  });

  test("a job's first shell command finds its sandbox set up by prepareWorkspace; removeWorkdir lets the next one go", async () => {
    const base = defaultRunnerConfig();
    const config: RunnerConfig = { ...base, root: mkdtempSync(join(tmpdir(), 'taskotron-prestart-runner-')), sandbox: { ...base.sandbox, backend: 'bwrap' } };
    const taskdir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-task-'));
    const workspaceActivities = createWorkspaceActivities(config, 'prestart-host');
    const workspace = (await environment().run(workspaceActivities.prepareWorkspace, { uuid: 'prestart-1', task: 'first', source: { kind: 'local' as const, path: taskdir } })) as Workspace;
    await until("the first command's sandbox to be set up", () => stubsIn(taskdir).length === 1);
    const job = { uuid: 'prestart-1', task: 'first', item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', taskdir, workdir: workspace.workdir, artifactsdir: workspace.artifactsdir };
    // As the shell directive runs its commands.
    const { sandbox, env } = (await environment().run(() => taskSandbox(config, job))) as TaskSandbox;
    const first = await supervise({ argv: ['/bin/sh', '-c', 'echo "$TASKOTRON_UUID"'], cwd: taskdir, env, sandbox });
    assert.deepEqual([first.exitCode, first.stdout, first.prestarted], [0, 'prestart-1\n', true], first.stderrTail);
    await until('the next sandbox to be set up', () => stubsIn(taskdir).length === 1);
    await environment().run(workspaceActivities.removeWorkdir, { uuid: 'prestart-1' });
    await until('the job\'s waiting sandbox to go', () => stubsIn(taskdir).length === 0);
  });

  test('TASKOTRON_SANDBOX_PRESTART=off: every command sets up its own sandbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    process.env.TASKOTRON_SANDBOX_PRESTART = 'off';
    try {
      await supervise(sandboxed(dir, ['/bin/true']));
      assert.equal((await supervise(sandboxed(dir, ['/bin/true']))).prestarted, undefined);
      assert.deepEqual(waitingUnder(dir), []);
    } finally {
      delete process.env.TASKOTRON_SANDBOX_PRESTART;
    }
  });

  test('shellWord keeps any word one word on one line', () => {
    assert.equal(shellWord("a'b\nc"), `'a'\\''b'"$nl"'c'`);
    assert.equal(shellWord(''), "''");
  });
});
