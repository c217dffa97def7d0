// Job sandboxes (sandbox.ts Prestart, spawner.ts): a job's commands of one kind run in one bwrap set
// up for the job, whose agent starts them one at a time. What a command sees must not depend on
// whether it ran there or in a bwrap of its own: the same environment, argv, exit code, output,
// stdin, no process of the runner, and nothing left of an earlier command. A job sandbox that has
// gone stale (a directory it binds was made anew) is not used; none outlives its idle time, its job
// or its spawner.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { defaultRunnerConfig, type RunnerConfig } from '../../src/activities/runner-config.js';
import { AGENT_NAME, bubblewrap, jobSandbox, taskSandbox, type SandboxSpec, type TaskSandbox } from '../../src/activities/sandbox.js';
import { createWorkspaceActivities, type Workspace } from '../../src/activities/workspace.js';
import type { ActionOutput, JobPaths } from '../../src/activities/directives/context.js';
import { runPythonAction } from '../../src/activities/directives/python.js';
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

/** The spawner's children that bind `dir`'s workdir: the bwraps of job sandboxes there. */
function sandboxesUnder(dir: string): number[] {
  return pidsMatching(join(dir, 'work')).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('bwrap\0') && Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === spawnerPid();
    } catch {
      return false;
    }
  });
}

/**
 * The agents of the job sandboxes that have `path` mounted. bwrap starts the agent once every mount
 * is made, so from then on the sandbox holds the directory as it was.
 */
function agentsBinding(path: string): number[] {
  return pidsMatching(AGENT_NAME).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('python') && readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(` ${path} `);
    } catch {
      return false;
    }
  });
}

function sandboxed(dir: string, argv: string[], env: Record<string, string> = { PATH: '/usr/bin:/bin' }): SupervisedCommand {
  return { argv, cwd: join(dir, 'work'), env, sandbox: { backend: bubblewrap, spec: spec(dir) }, logFile: join(dir, 'log') };
}

describe('job sandboxes', () => {
  test('the second command of a kind runs in the job sandbox, and sees exactly what a sandbox of its own shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    // Quotes, a newline, spaces, '=' and non-ASCII in the arguments and the environment.
    const env = { PATH: '/usr/bin:/bin', ODD: "it's\na \"test\" = $HOME `x` \\", LANG: 'C.UTF-8', EMPTY: '' };
    const script = 'printf "%s|" "$0" "$@"; echo; env | LC_ALL=C sort; printf "[%s]\\n" "$ODD"; cat; [ -t 0 ] || echo "stdin not a tty"; readlink /proc/self/fd/0; echo to-stderr >&2; exit 3';
    const argv = ['/bin/sh', '-c', script, 'zero', 'a b', "c'd", 'e\nf', 'g=h', 'ünï'];
    const first = await supervise(sandboxed(dir, argv, env));
    const second = await supervise(sandboxed(dir, argv, env));
    assert.equal(first.prestarted, undefined, 'the first command sets up a sandbox of its own');
    assert.equal(second.prestarted, true, 'the second one runs in the job sandbox');
    assert.equal(first.exitCode, 3, first.stderrTail);
    assert.deepEqual([second.exitCode, second.stdout, second.stderrTail], [first.exitCode, first.stdout, first.stderrTail]);
    assert.match(first.stdout, /^zero\|a b\|c'd\|e\nf\|g=h\|ünï\|\n/);
    assert.match(first.stdout, /\n\[it's\na "test" = \$HOME `x` \\\]\n/);
    assert.match(first.stdout, /\nPWD=.*\/work\n/);
    assert.match(first.stdout, /\nstdin not a tty\n\/dev\/null\n$/, 'stdin is /dev/null');
    // A signal's death is bwrap's exit code 128+N in both, and the agent outlives a kill of its command's parent.
    const killed = await supervise(sandboxed(dir, ['/bin/sh', '-c', 'kill -TERM $PPID; kill -KILL $$']));
    assert.deepEqual([killed.exitCode, killed.signal, killed.prestarted], [137, undefined, true], killed.stderrTail);
    assert.equal((await supervise(sandboxed(dir, ['/bin/true']))).prestarted, true, 'the same job sandbox runs the next command');
    // env(1) itself, not a shell, which would export PWD on its own.
    const printed = [await supervise(sandboxed(dir, ['/usr/bin/env'], env)), await supervise(sandboxed(dir, ['/usr/bin/env'], env))];
    assert.deepEqual(printed.map((result) => result.prestarted), [true, true]);
    const envDir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    const fresh = await supervise(sandboxed(envDir, ['/usr/bin/env'], env));
    assert.equal(fresh.prestarted, undefined);
    const lines = (result: SupervisedResult) => result.stdout.replaceAll(envDir, dir).split('\n').sort();
    assert.deepEqual(lines(printed[1]!), lines(fresh), 'the same variables as from a sandbox set up for the command, PWD included');
    assert.match(fresh.stdout, /^PWD=.*\/work$/m);
    // Its open files: stdin, stdout and stderr, and no file of the runner's (3 is ls's own, the
    // directory it lists); no signal ignored or blocked. Read by a program of its own, not by a shell
    // about itself: a shell holds a pipe's end, or blocks every signal, while it starts a child.
    for (const [argv, expected] of [[['/bin/ls', '/proc/self/fd'], '0\n1\n2\n3\n'], [['/bin/grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status'], 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n']] as const) {
      const own = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
      const both = [await supervise(sandboxed(own, [...argv])), await supervise(sandboxed(own, [...argv]))];
      assert.deepEqual(both.map((result) => [result.stdout, result.prestarted]), [[expected, undefined], [expected, true]], argv.join(' '));
    }
    const log = readFileSync(join(dir, 'log'), 'utf8');
    assert.equal(log.match(/^to-stderr$/gm)?.length, 2, 'both commands wrote their output to the log');
    assert.deepEqual(log.match(/^\[taskotron\] exit code 3 after \d+ ms.*$/gm)?.map((line) => line.replace(/\d+ ms/, 'N ms')), ['[taskotron] exit code 3 after N ms', "[taskotron] exit code 3 after N ms in the job's sandbox"]);
  });

  test('what a command left running is gone when its step ends; the runner is invisible', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const sleep = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const leaving = await supervise(sandboxed(dir, ['/bin/sh', '-c', `setsid sleep ${sleep} >/dev/null 2>&1 & sleep ${sleep} & echo started`]));
    assert.deepEqual([leaving.stdout, leaving.prestarted], ['started\n', true]);
    assert.deepEqual(pidsMatching(`sleep ${sleep}`), [], 'killed before the step ended, setsid or not');
    const next = await supervise(sandboxed(dir, ['/bin/sh', '-c', 'pgrep -x sleep || echo none; echo /proc/[0-9]*; echo $$']));
    assert.equal(next.prestarted, true);
    const [none, listed, own] = next.stdout.trim().split('\n');
    assert.equal(none, 'none');
    // The agent (the namespace's init) and the command itself: nothing of the host's, nothing left.
    assert.deepEqual(listed!.split(' ').sort(), ['/proc/1', `/proc/${own}`].sort());
  });

  test('a program found in PATH runs in the job sandbox; one the sandbox might not find sets up its own, with bwrap\'s own errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const found = await supervise(sandboxed(dir, ['sh', '-c', 'echo "$0"']));
    assert.deepEqual([found.exitCode, found.stdout, found.prestarted], [0, 'sh\n', true], 'argv[0] stays as given');
    // The agent looks for it in the command's PATH as execvp does: past a directory that is not there.
    const later = await supervise(sandboxed(dir, ['sh', '-c', 'echo "$0"'], { PATH: '/no-such-dir:/usr/bin:/bin' }));
    assert.deepEqual([later.exitCode, later.stdout, later.prestarted], [0, 'sh\n', true]);
    // A script whose #! names no interpreter is there, but cannot be started: the agent hands it
    // back, and a bwrap of its own says why.
    writeFileSync(join(dir, 'work', 'bad-interpreter'), '#!/no/such/interpreter\n', { mode: 0o755 });
    const bad = await supervise(sandboxed(dir, [join(dir, 'work', 'bad-interpreter')]));
    assert.deepEqual([bad.exitCode, bad.prestarted], [1, undefined], bad.stderrTail);
    assert.match(bad.stderrTail, /bwrap: execvp .*bad-interpreter: No such file or directory/);
    // No field of the agent's messages can hold a NUL, nor a variable's name a '=': such a command
    // never reaches the agent, and fails as it does without job sandboxes.
    for (const odd of [sandboxed(dir, ['/bin/echo', 'a\0b']), sandboxed(dir, ['/bin/true'], { PATH: '/usr/bin:/bin', 'A=B': 'c' })]) {
      const inJob = await supervise(odd).then((result) => ({ code: result.exitCode, prestarted: result.prestarted }), (error: Error) => error.message);
      process.env.TASKOTRON_SANDBOX_PRESTART = 'off';
      const own = await supervise(odd).then((result) => ({ code: result.exitCode, prestarted: result.prestarted }), (error: Error) => error.message).finally(() => delete process.env.TASKOTRON_SANDBOX_PRESTART);
      assert.deepEqual(inJob, own);
    }
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
    // A working directory that is not there: the agent hands the command back, and it fails as it
    // did before job sandboxes.
    await assert.rejects(supervise({ ...sandboxed(dir, ['/bin/true']), cwd: join(dir, 'work', 'missing') }), /cannot run \/bin\/true: .*its working directory .*missing does not exist/);
    // The job sandbox is still there for the next command of the kind.
    assert.equal((await supervise(sandboxed(dir, ['/bin/true']))).prestarted, true);
  });

  test('a job sandbox whose directories were made anew is not used; the command sees the new ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    await until('the job sandbox to be set up', () => agentsBinding(join(dir, 'work')).length === 1);
    const [stale] = agentsBinding(join(dir, 'work'));
    rmSync(join(dir, 'work'), { recursive: true });
    mkdirSync(join(dir, 'work'));
    writeFileSync(join(dir, 'work', 'new'), 'the new workdir\n');
    const result = await supervise(sandboxed(dir, ['/bin/cat', 'new']));
    assert.deepEqual([result.exitCode, result.stdout, result.prestarted], [0, 'the new workdir\n', undefined], result.stderrTail);
    await until('the stale job sandbox to go', () => !processAlive(stale!), 5_000);
  });

  test('cancelling a command in the job sandbox kills it, and the sandbox runs the next one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const sleep = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const env = environment();
    const running = supervise({ ...sandboxed(dir, ['/bin/sh', '-c', `sleep ${sleep} & sleep ${sleep}`]), killGraceMs: 500 }, env);
    await until('both sleeps to run', () => pidsMatching(`sleep ${sleep}`).length >= 2);
    env.cancel();
    await assert.rejects(running, CancelledFailure);
    assert.deepEqual(pidsMatching(`sleep ${sleep}`), [], 'every process of the command died before the step ended');
    assert.equal((await supervise(sandboxed(dir, ['/bin/true']))).prestarted, true);
  });

  test('a command that ignores SIGTERM is killed after the grace; an agent that stops answering takes its sandbox down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const sleep = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const env = environment();
    const stubborn = supervise({ ...sandboxed(dir, ['/bin/sh', '-c', `trap '' TERM; sleep ${sleep}; echo survived`]), killGraceMs: 300 }, env);
    await until('the sleep to run', () => pidsMatching(`sleep ${sleep}`).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0')));
    env.cancel();
    await assert.rejects(stubborn, CancelledFailure);
    assert.deepEqual(pidsMatching(`sleep ${sleep}`), []);
    // An agent that stops answering (stopped from the host: a task cannot signal its namespace's
    // init): nobody reports the command's end, so its time limit applies, and the kill takes the
    // whole job sandbox down after 2 s.
    await until('the job sandbox to be set up', () => agentsBinding(join(dir, 'work')).length === 1);
    const [agent] = agentsBinding(join(dir, 'work'));
    const stopped = supervise({ ...sandboxed(dir, ['/bin/sh', '-c', `echo before; sleep ${sleep}`]), timeoutMs: 1_000, killGraceMs: 200 });
    await until('the sleep to run', () => pidsMatching(`sleep ${sleep}`).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0')));
    process.kill(agent!, 'SIGSTOP');
    const result = await stopped;
    assert.deepEqual([result.exitCode, result.timedOut, result.prestarted], [137, true, true]);
    await until('the stopped job sandbox to go', () => !processAlive(agent!), 10_000);
    assert.deepEqual(pidsMatching(`sleep ${sleep}`), []);
    assert.equal((await supervise(sandboxed(dir, ['/bin/echo', 'after']))).stdout, 'after\n', 'a new sandbox runs the next command');
  });

  test('a task cannot signal its agent; an agent killed from outside, or a sandbox dropped under its command, fails the step, naming the job sandbox', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const sleep = `${600 + Math.floor(Math.random() * 1000)}.${process.pid}`;
    const tries = await supervise(sandboxed(dir, ['/bin/sh', '-c', 'kill -STOP $PPID; kill -KILL $PPID; kill -KILL -1; pkill -9 python3; echo "survived $PPID"']));
    assert.deepEqual([tries.exitCode, tries.stdout, tries.prestarted], [0, 'survived 1\n', true], tries.stderrTail);
    const [agent] = agentsBinding(join(dir, 'work'));
    const running = supervise(sandboxed(dir, ['/bin/sh', '-c', `sleep ${sleep}`]));
    await until('the sleep to run', () => pidsMatching(`sleep ${sleep}`).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0')));
    process.kill(agent!, 'SIGKILL');
    await assert.rejects(running, /the job sandbox \(bwrap \d+\) ended: its agent was killed by signal 9 while running \/bin\/sh/);
    await until('the sleep to die with its sandbox', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
    // The job's workdir goes (removeWorkdir of a run that is over) while a command still runs there.
    await supervise(sandboxed(dir, ['/bin/true']));
    await until('a new job sandbox to be set up', () => agentsBinding(join(dir, 'work')).length === 1);
    const orphaned = supervise(sandboxed(dir, ['/bin/sh', '-c', `sleep ${sleep}`]));
    await until('the sleep to run', () => pidsMatching(`sleep ${sleep}`).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0')));
    forgetSandboxes(join(dir, 'work'));
    await assert.rejects(orphaned, /the job sandbox \(bwrap \d+\) was dropped: its job directory .*work is being removed while running \/bin\/sh/);
    await until('the sleep to die with its sandbox', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });

  test('no job sandbox outlives its idle time, its job (forgetSandboxes) or the spawner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    await until('the job sandbox to be set up', () => sandboxesUnder(dir).length === 1);
    // The job ends: removeWorkdir forgets its sandboxes (long before their 5 minutes are over).
    forgetSandboxes(join(dir, 'work'));
    await until('the forgotten sandbox to go', () => sandboxesUnder(dir).length === 0, 10_000);

    // Nobody comes for it: it goes when it has been idle 5 minutes (by default; 2 s from the next spawner on).
    const first = spawnerPid()!;
    stopSpawner();
    await until('the spawner to exit', () => !processAlive(first), 5_000);
    process.env.TASKOTRON_SANDBOX_PRESTART_IDLE_MS = '2000';
    try {
      await supervise(sandboxed(dir, ['/bin/true']));
    } finally {
      delete process.env.TASKOTRON_SANDBOX_PRESTART_IDLE_MS;
    }
    await until('the job sandbox to be set up', () => sandboxesUnder(dir).length === 1);
    const waited = Date.now();
    await until('the idle job sandbox to go', () => sandboxesUnder(dir).length === 0, 10_000);
    assert.ok(Date.now() - waited >= 1_000, `it waited ${Date.now() - waited} ms, not its 2 s`);

    // The spawner goes (the runner exits): so do its job sandboxes.
    await supervise(sandboxed(dir, ['/bin/true']));
    await until('the job sandbox to be set up', () => sandboxesUnder(dir).length === 1);
    const [sandbox] = sandboxesUnder(dir);
    const spawner = spawnerPid()!;
    stopSpawner();
    await until('the spawner to exit', () => !processAlive(spawner), 5_000);
    await until('its job sandbox to die', () => !processAlive(sandbox!), 5_000);
  });

  test("loadFormula sets up the sandboxes of the kinds the job's formula runs and no other; the directives' first commands run in them; removeWorkdir lets them go", async () => {
    const base = defaultRunnerConfig();
    const header = 'name: kinds\ndesc: the kinds of command a job runs\nmaintainer: taskotron\ninput:\n  args: [koji_build]\nactions:\n';
    const shellAction = '  - name: say\n    shell:\n      - echo hello\n';
    const pythonAction = '  - name: check\n    python:\n      file: check.py\n      callable: run\n';
    const dummyAction = '  - name: nothing\n    dummy:\n      result: PASSED\n';
    // One runner's activities per configuration, as a runner makes them once.
    const made = new Map<RunnerConfig, ReturnType<typeof createWorkspaceActivities>>();
    const activities = (config: RunnerConfig) => made.get(config) ?? made.set(config, createWorkspaceActivities(config, 'prestart-host')).get(config)!;
    /** A job through prepareWorkspace and loadFormula on a runner of `config`, as the job workflow starts one on its host. */
    const prepared = async (config: RunnerConfig, uuid: string, actions: string): Promise<JobPaths & { uuid: string }> => {
      const taskdir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-task-'));
      writeFileSync(join(taskdir, 'runtask.yml'), header + actions);
      writeFileSync(join(taskdir, 'check.py'), 'def run(**kwargs):\n    return "checked"\n');
      const workspace = (await environment().run(activities(config).prepareWorkspace, { uuid, task: 'kinds', source: { kind: 'local' as const, path: taskdir } })) as Workspace;
      await environment().run(activities(config).loadFormula, { taskdir });
      return { uuid, task: 'kinds', item: 'foo-1.0-1.fc40', itemType: 'koji_build', arch: 'x86_64', taskdir, workdir: workspace.workdir, artifactsdir: workspace.artifactsdir };
    };
    // As the directives run their commands: the shell one through its sandbox, the python one whole.
    const shell = async (config: RunnerConfig, job: JobPaths) => {
      const { sandbox, env } = (await environment().run(() => taskSandbox(config, job))) as TaskSandbox;
      return supervise({ argv: ['/bin/sh', '-c', 'echo "$TASKOTRON_UUID"'], cwd: job.taskdir, env, sandbox });
    };
    const python = async (config: RunnerConfig, job: JobPaths) => {
      const output = (await environment().run(() => runPythonAction({ index: 2, name: 'check', params: { file: 'check.py', callable: 'run' }, exported: true, job }, config))) as ActionOutput;
      assert.equal(output.output, 'checked');
      return /exit code 0 after \d+ ms in the job's sandbox/.test(readFileSync(output.log!, 'utf8'));
    };
    const removeWorkdir = (config: RunnerConfig, job: { uuid: string }) => environment().run(activities(config).removeWorkdir, { uuid: job.uuid });

    // The system's python3: its sandbox is the shell one (nothing of it is hidden). By its path: a bare
    // `python3` is looked up in the runner's PATH, and a PATH entry under /tmp (npm's node_modules/.bin
    // of a checkout there) leaves the search to bwrap, so the directive's command runs in a bwrap of
    // its own and none is set up ahead.
    const plain: RunnerConfig = { ...base, python: '/usr/bin/python3', root: mkdtempSync(join(tmpdir(), 'taskotron-prestart-runner-')), sandbox: { ...base.sandbox, backend: 'bwrap' } };
    const pythonOnly = await prepared(plain, 'kinds-python', pythonAction);
    await until("the job's sandbox to be set up", () => agentsBinding(pythonOnly.workdir).length === 1);
    assert.equal(await python(plain, pythonOnly), true, "the first python command ran in the job's sandbox");
    // No command at all (dummy): no sandbox. Had one been set up (ready or not), this command would run in it.
    const none = await prepared(plain, 'kinds-none', dummyAction);
    assert.equal((await shell(plain, none)).prestarted, undefined, 'no sandbox was set up for a job without commands');

    // An interpreter under a hidden directory (a virtualenv in the runner's home): the python
    // sandbox binds its prefix, a kind of its own, set up only for a job with a python action.
    // Not under /tmp, which every sandbox replaces with the job's own.
    const home = mkdtempSync('/var/tmp/taskotron-prestart-home-');
    mkdirSync(join(home, 'venv', 'bin'), { recursive: true });
    // A copy, not a link: it finds the system's standard library by its built-in prefix.
    copyFileSync(realpathSync('/usr/bin/python3'), join(home, 'venv', 'bin', 'python3'));
    chmodSync(join(home, 'venv', 'bin', 'python3'), 0o755);
    const venv: RunnerConfig = { ...plain, python: join(home, 'venv', 'bin', 'python3') };
    const runnerHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const both = await prepared(venv, 'kinds-both', shellAction + pythonAction);
      await until("the job's shell and python sandboxes to be set up", () => agentsBinding(both.workdir).length === 2);
      const first = await shell(venv, both);
      assert.deepEqual([first.exitCode, first.stdout, first.prestarted], [0, 'kinds-both\n', true], first.stderrTail);
      assert.equal(await python(venv, both), true, "the first python command ran in the job's python sandbox");
      const shellOnly = await prepared(venv, 'kinds-shell', shellAction);
      assert.equal((await shell(venv, shellOnly)).prestarted, true);
      assert.equal(await python(venv, shellOnly), false, 'no python sandbox was set up for a job without python actions');
      for (const job of [both, shellOnly]) await removeWorkdir(venv, job);
      await until("the jobs' sandboxes to go", () => agentsBinding(both.workdir).length + agentsBinding(shellOnly.workdir).length === 0);
    } finally {
      process.env.HOME = runnerHome;
      rmSync(home, { recursive: true, force: true });
    }
    for (const job of [pythonOnly, none]) await removeWorkdir(plain, job);
    await until("the jobs' sandboxes to go", () => agentsBinding(pythonOnly.workdir).length + agentsBinding(none.workdir).length === 0);
  });

  test('a command of a kind whose job sandbox is busy sets up its own; a large output reaches the log whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    await supervise(sandboxed(dir, ['/bin/true']));
    const both = await Promise.all([supervise(sandboxed(dir, ['/bin/sh', '-c', 'sleep 0.3; echo one'])), supervise(sandboxed(dir, ['/bin/sh', '-c', 'sleep 0.3; echo two']))]);
    assert.deepEqual(both.map((result) => result.stdout).sort(), ['one\n', 'two\n']);
    assert.deepEqual(both.map((result) => result.prestarted ?? false).sort(), [false, true], 'one ran in the job sandbox, the other in a bwrap of its own');
    const bytes = 3_000_000;
    const large = await supervise({ ...sandboxed(dir, ['/bin/sh', '-c', `head -c ${bytes} /dev/zero | tr '\\0' x; echo; echo end >&2`]), maxStdoutBytes: 1000 });
    assert.deepEqual([large.exitCode, large.prestarted, large.stdoutTruncated, large.stderrTail], [0, true, true, 'end\n']);
    const log = readFileSync(join(dir, 'log'), 'utf8');
    assert.equal(log.match(/x+/g)?.sort((a, b) => b.length - a.length)[0]?.length, bytes, 'every byte of stdout is in the log');
  });

  test('a job sandbox that never gets ready is dropped after 10 s, and the command waiting for it runs in a bwrap of its own', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    const before = spawnerPid();
    stopSpawner();
    if (before !== undefined) await until('the spawner to exit', () => !processAlive(before), 5_000);
    // Its agent starts and says "ready"; the spawner does not hear it, as if the set-up hung.
    process.env.TASKOTRON_SPAWNER_FAULT = 'sandbox-never-ready';
    try {
      const first = await supervise(sandboxed(dir, ['/bin/true']));
      assert.equal(first.prestarted, undefined);
      await until('the job sandbox to be set up', () => agentsBinding(join(dir, 'work')).length === 1);
      const [agent] = agentsBinding(join(dir, 'work'));
      const began = performance.now();
      const waited = await supervise(sandboxed(dir, ['/bin/echo', 'waited']));
      const ms = performance.now() - began;
      assert.deepEqual([waited.exitCode, waited.stdout, waited.prestarted], [0, 'waited\n', undefined], waited.stderrTail);
      // A lower bound only: the spawner's timer starts after this clock did.
      assert.ok(ms >= 9_900, `the command waited ${Math.round(ms)} ms for the sandbox, not the 10 s bound`);
      await until('the sandbox that never got ready to go', () => !processAlive(agent!), 5_000);
      assert.doesNotMatch(readFileSync(join(dir, 'log'), 'utf8'), /in the job's sandbox/);
    } finally {
      delete process.env.TASKOTRON_SPAWNER_FAULT;
      stopSpawner();
    }
  });

  test('TASKOTRON_SANDBOX_PRESTART=off: every command sets up a sandbox of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    process.env.TASKOTRON_SANDBOX_PRESTART = 'off';
    try {
      await supervise(sandboxed(dir, ['/bin/true']));
      assert.equal((await supervise(sandboxed(dir, ['/bin/true']))).prestarted, undefined);
      assert.deepEqual(sandboxesUnder(dir), []);
    } finally {
      delete process.env.TASKOTRON_SANDBOX_PRESTART;
    }
  });

});

/**
 * A job sandbox's agent in the job sandbox's own bwrap, started by a Python `prelude` run before the
 * agent's unchanged code (a fault, or another Python, made here), and spoken to over its channel in
 * its own protocol, as the spawner does.
 */
function agentWithPrelude(dir: string, prelude: string) {
  const sandbox = jobSandbox(spec(dir));
  assert.ok(sandbox, 'bwrap and the system Python are there');
  const at = sandbox.args.indexOf('-S');
  const [script, name] = sandbox.args.slice(at + 1);
  assert.equal(name, AGENT_NAME);
  const run = `${prelude}\nimport runpy, sys\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n`;
  const agent = spawn(sandbox.file, [...sandbox.args.slice(0, at + 1), '-c', run, script!, name], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  agent.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'exit', not 'close': a child whose IPC channel we disconnected never emits 'close' (Node 20).
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  type Message = { t: string; id?: number; fd?: number; chunk?: string; code?: number };
  const received: Message[] = [];
  const waiting = new Set<() => void>();
  const wake = () => {
    for (const check of [...waiting]) check();
  };
  agent.on('message', (message: Message) => {
    received.push(message);
    wake();
  });
  agent.once('exit', wake);
  /** The first message that matches, as it arrives; fails at once if the agent exits without it. */
  const message = (what: string, match: (message: Message) => boolean, timeoutMs = 10_000) =>
    new Promise<Message>((resolve, reject) => {
      const settle = (then: () => void) => {
        clearTimeout(timer);
        waiting.delete(check);
        then();
      };
      const check = () => {
        const found = received.find(match);
        if (found) settle(() => resolve(found));
        else if (agent.exitCode !== null || agent.signalCode !== null) settle(() => reject(new Error(`the agent exited (${agent.exitCode ?? agent.signalCode}) before ${what}: ${stderr}`)));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(received)}; stderr ${stderr}`))), timeoutMs);
      waiting.add(check);
      check();
    });
  /** run <id> <file> <cwd> <number of args> <args...> <NAME=value...>, or kill <id> <signal>. */
  const send = (...fields: string[]) => agent.send(Buffer.from(fields.join('\0')).toString('base64'));
  /** Runs `argv` in `cwd` to its end: closed (with its exit code) or refused, and its stdout. */
  const runCommand = async (id: number, argv: string[], cwd = '/', timeoutMs?: number): Promise<{ t: string; code?: number; stdout: string }> => {
    send('run', String(id), argv[0]!, cwd, String(argv.length - 1), ...argv.slice(1), 'PATH=/usr/bin:/bin');
    const end = await message(`command ${id} to end`, (m) => m.id === id && (m.t === 'closed' || m.t === 'refused'), timeoutMs);
    const stdout = received.filter((m) => m.id === id && m.t === 'data' && m.fd === 1).map((m) => Buffer.from(m.chunk!, 'base64').toString()).join('');
    return { t: end.t, ...(end.code !== undefined ? { code: end.code } : {}), stdout };
  };
  return { agent, exited, stderr: () => stderr, message, send, run: runCommand };
}

// A fork that fails (EAGAIN, ENOMEM: a task's processes at the user's limit) cannot be provoked for
// the agent alone here, so its os.fork is made to fail once, by the prelude.
test('an agent that cannot fork refuses the command (nothing ran), keeps none of its pipes open, and runs the next', async () => {
  const failSecondFork = [
    'import os',
    'real_fork, forks = os.fork, []',
    'def fork():',
    '    forks.append(1)',
    '    if len(forks) == 2:',
    "        raise OSError(11, 'Resource temporarily unavailable')",
    '    return real_fork()',
    'os.fork = fork',
  ].join('\n');
  const { agent, stderr, message, run } = agentWithPrelude(mkdtempSync(join(tmpdir(), 'taskotron-prestart-')), failSecondFork);
  try {
    await message('ready', (m) => m.t === 'ready');
    // The agent's open files, read from the host between commands, when it has nothing in hand (a
    // command listing them from inside would race the agent closing the exec-status pipe).
    const agentPid = Number(readFileSync(`/proc/${agent.pid}/task/${agent.pid}/children`, 'utf8').trim().split(' ')[0]);
    const openFiles = () => readdirSync(`/proc/${agentPid}/fd`).sort();
    assert.match(readFileSync(`/proc/${agentPid}/cmdline`, 'utf8'), /python3/, 'bwrap runs the agent as its child');
    assert.deepEqual(await run(1, ['/bin/true']), { t: 'closed', code: 0, stdout: '' }, stderr());
    const idle = openFiles();
    assert.deepEqual(await run(2, ['/bin/echo', 'never']), { t: 'refused', stdout: '' });
    // The refused command's three pipes (output, errors, exec status) were closed, all six ends.
    assert.deepEqual(openFiles(), idle);
    assert.deepEqual(await run(3, ['/bin/echo', 'still here']), { t: 'closed', code: 0, stdout: 'still here\n' }, stderr());
    assert.deepEqual(openFiles(), idle);
  } finally {
    agent.kill('SIGKILL');
  }
});

describe("the job sandbox's agent on another Python", () => {
  test('a Python whose signal module does not wrap _signal: the agent imports signal instead, and runs, kills and reports as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    // _signal made unimportable once signal.py has loaded: the agent's first import fails, and only
    // its fallback lets it run.
    const { agent, exited, stderr, message, send, run } = agentWithPrelude(dir, "import signal, sys\nsys.modules['_signal'] = None");
    try {
      await message('ready', (m) => m.t === 'ready');
      // A command that kills itself with SIGTERM: 128+15, as bwrap reports it, after its output.
      assert.deepEqual(await run(1, ['/bin/sh', '-c', 'echo out; kill -TERM $$'], join(dir, 'work')), { t: 'closed', code: 143, stdout: 'out\n' });
      // A kill message names its signal, looked up in the module the agent imported.
      send('run', '2', '/bin/sleep', join(dir, 'work'), '1', '600', 'PATH=/usr/bin:/bin');
      await message('the second command to start', (m) => m.t === 'started' && m.id === 2);
      send('kill', '2', 'SIGINT');
      assert.equal((await message('the second command to close', (m) => m.t === 'closed' && m.id === 2)).code, 130);
      agent.disconnect();
      assert.equal(await exited, 0, stderr());
      assert.equal(stderr(), '');
    } finally {
      agent.kill('SIGKILL');
    }
  });
});

describe("the job sandbox's agent and a leftover that does not die", () => {
  test('a process stuck in the kernel (D state) after SIGKILL holds its step 5 s at most, and the next command runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskotron-prestart-'));
    // A process in uninterruptible sleep cannot be made here on purpose; what the agent sees of one
    // is a pid still in /proc after its SIGKILL. The prelude makes every pid look so, for good.
    const prelude = ['import os', 'real_exists = os.path.exists', "os.path.exists = lambda path: path.startswith('/proc/') or real_exists(path)"].join('\n');
    const { agent, exited, stderr, message, run } = agentWithPrelude(dir, prelude);
    try {
      await message('ready', (m) => m.t === 'ready');
      // The command exits at once and leaves a sleep behind, which the agent kills.
      const sent = performance.now();
      assert.deepEqual(await run(1, ['/bin/sh', '-c', 'sleep 600 & exit 0'], join(dir, 'work'), 30_000), { t: 'closed', code: 0, stdout: '' });
      const heldMs = performance.now() - sent;
      // The agent waits LEFTOVER_WAIT_S = 5 s (its monotonic clock, as ours) from the leftover's kill,
      // which came after the run was sent; it does not wait for the leftover to go.
      assert.ok(heldMs >= 5000, `closed after ${heldMs.toFixed(0)} ms: the agent did not wait for the leftover`);
      assert.ok(heldMs < 15_000, `closed after ${heldMs.toFixed(0)} ms: held beyond the 5 s bound`);
      // A command that leaves nothing is not held.
      const next = performance.now();
      assert.deepEqual(await run(2, ['/bin/true'], join(dir, 'work')), { t: 'closed', code: 0, stdout: '' });
      assert.ok(performance.now() - next < 5000, 'a command without leftovers was held as if it had one');
      agent.disconnect();
      assert.equal(await exited, 0, stderr());
    } finally {
      agent.kill('SIGKILL');
    }
  });
});
