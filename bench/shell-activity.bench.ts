// The activity side of a `shell` action (issue 13 item 2), part by part, against a plain spawn of the
// same `true` measured in the same run: every variant runs `per` commands in turn, round after round
// (interleaved, so load changes hit all of them alike), and the table gives each one's median per
// command and its cost over the execa baseline `bench/job.bench.ts` uses. No Temporal server:
// MockActivityEnvironment supplies the activity context, so what is left is our own code — the
// directive's set-up, runSupervised (log file, process group, pipes, heartbeat timer), the sandbox's
// arguments and the leftover scan of `sandbox: none` — through the runner's spawner (the default) and,
// for three variants, with TASKOTRON_SPAWNER=direct. The bench process is small (no worker), so the
// fork the spawner saves is cheaper here than in a runner: bench/spawn-cost.bench.ts measures that.
// `npx tsx bench/shell-activity.bench.ts [rounds] [per]` (default 20 × 10).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { execa } from 'execa';
import { runShellAction } from '../src/activities/directives/shell.js';
import type { ActionRequest } from '../src/activities/directives/context.js';
import { defaultRunnerConfig, type RunnerConfig } from '../src/activities/runner-config.js';
import { bubblewrap, noSandbox, taskSandbox, type SandboxSpec } from '../src/activities/sandbox.js';
import { spawnerPid } from '../src/activities/spawner.js';
import { runSupervised, type SupervisedCommand } from '../src/activities/supervise.js';
import type { ShellCommand } from '../src/formula/substitute.js';
import { median, reportFigures } from './figures.js';

const rounds = Number(process.argv[2] ?? 20);
const per = Number(process.argv[3] ?? 10);
const scratch = mkdtempSync(join(tmpdir(), 'taskotron-bench-shell-'));
const taskdir = join(scratch, 'task');
const spec: SandboxSpec = {
  writable: [join(scratch, 'work'), join(scratch, 'artifacts')],
  readable: [taskdir],
  tmp: join(scratch, 'tmp'),
  home: join(scratch, 'home'),
  hideDirs: homedir() && homedir() !== '/' ? [homedir()] : [],
  hideFiles: [],
  network: true,
};
for (const dir of [taskdir, ...spec.writable, spec.tmp, spec.home]) mkdirSync(dir, { recursive: true });
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const logFile = join(scratch, 'artifacts', 'taskotron', '01-step.log');

const activity = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
const supervised = (command: Partial<SupervisedCommand>) => () =>
  activity.run(runSupervised, { argv: ['true'], cwd: taskdir, ...command }) as Promise<unknown>;

const config: RunnerConfig = { ...defaultRunnerConfig(), root: join(scratch, 'runner') };
const job = { uuid: 'bench', task: 'bench', item: 'x-1-1', itemType: 'koji_build', arch: 'noarch', taskdir, workdir: join(config.root, 'work', 'bench'), artifactsdir: join(config.root, 'artifacts', 'bench') };
for (const dir of [job.workdir, job.artifactsdir]) mkdirSync(dir, { recursive: true });
const request = (index: number): ActionRequest<ShellCommand[]> => ({ index, name: 'step', params: [{ kind: 'argv', argv: ['true'] } as ShellCommand], exported: false, job });
let actions = 0;
const shellAction = (backend: 'bwrap' | 'none') => () => {
  const configured = { ...config, sandbox: { ...config.sandbox, backend } };
  return activity.run(runShellAction, request((actions++ % 90) + 1), configured) as Promise<unknown>;
};

/** bwrap's argv for `true`, with some of its arguments left out or added, to price each one. */
function bwrapArgs(change: (args: string[]) => string[] = (a) => a): string[] {
  return change(bubblewrap.wrap(['true'], taskdir, spec));
}
const without = (...flags: string[]) => (args: string[]) => {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arity = ['--tmpfs', '--remount-ro', '--proc', '--dev'].includes(args[i]!) ? 1 : 0;
    if (flags.includes(args[i]!)) i += arity;
    else out.push(args[i]!);
  }
  return out;
};
const direct = (run: () => Promise<unknown>) => async () => {
  process.env.TASKOTRON_SPAWNER = 'direct';
  try {
    return await run();
  } finally {
    delete process.env.TASKOTRON_SPAWNER;
  }
};
const execaArgv = (argv: string[]) => () => execa(argv[0]!, argv.slice(1), { cwd: taskdir, stdin: 'ignore' });

const variants: Record<string, () => Promise<unknown>> = {
  'execa true (job.bench baseline)': execaArgv(['true']),
  'child_process.spawn true': () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('true', [], { cwd: taskdir, stdio: 'ignore' });
      child.once('error', reject).once('exit', () => resolve());
    }),
  "execa true, runSupervised's options": () =>
    execa('true', [], { cwd: taskdir, env, extendEnv: false, stdin: 'ignore', buffer: false, reject: false, detached: true, cleanup: false }),
  'runSupervised, no log, no sandbox': supervised({}),
  'runSupervised, log, no sandbox': supervised({ logFile }),
  'runSupervised, log, sandbox none (marker + scan)': supervised({ logFile, env, sandbox: { backend: noSandbox, spec } }),
  'runSupervised, log, sandbox bwrap': supervised({ logFile, env, sandbox: { backend: bubblewrap, spec } }),
  // The same without the spawner (TASKOTRON_SPAWNER=direct): the runner forks itself.
  'runSupervised, log, no sandbox, direct': direct(supervised({ logFile })),
  'runSupervised, log, sandbox bwrap, direct': direct(supervised({ logFile, env, sandbox: { backend: bubblewrap, spec } })),
  'taskSandbox() (directive set-up, no process)': () => activity.run(taskSandbox, config, job) as Promise<unknown>,
  'shell action, sandbox none': shellAction('none'),
  'shell action, sandbox bwrap': shellAction('bwrap'),
  'shell action, sandbox bwrap, direct': direct(shellAction('bwrap')),
  'bwrap, the job arguments': execaArgv(bwrapArgs()),
  'bwrap, + --unshare-net': execaArgv(bwrapArgs((a) => [a[0]!, '--unshare-net', ...a.slice(1)])),
  'bwrap, no --die-with-parent/--new-session': execaArgv(bwrapArgs(without('--die-with-parent', '--new-session'))),
  'bwrap, no --unshare-ipc/uts/cgroup-try': execaArgv(bwrapArgs(without('--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'))),
  'bwrap, no --proc': execaArgv(bwrapArgs(without('--proc'))),
  'bwrap, no --dev': execaArgv(bwrapArgs(without('--dev'))),
  'bwrap, no hidden home (tmpfs + remount-ro)': execaArgv(bwrapArgs(without('--tmpfs', '--remount-ro'))),
  'bwrap, minimal (user+pid ns, ro /, no proc/dev)': execaArgv(['bwrap', '--unshare-user', '--unshare-pid', '--ro-bind', '/', '/', '--', 'true']),
};

/** Clock ticks (10 ms: USER_HZ is 100 on Linux) a process and its reaped children used: utime, stime, cutime, cstime. */
function ticks(pid: number | 'self'): { own: number; reaped: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { own: (Number(fields[11]) + Number(fields[12])) * 10, reaped: (Number(fields[13]) + Number(fields[14])) * 10 };
  } catch {
    return { own: 0, reaped: 0 };
  }
}

/**
 * CPU time so far in ms: this process's own, and that of its children: those it reaped (bwrap, true)
 * plus its spawner's own and the commands the spawner reaped (the spawner outlives the bench's rounds).
 */
function cpu(): { self: number; children: number } {
  const usage = process.cpuUsage();
  const spawner = spawnerPid();
  const helper = spawner === undefined ? { own: 0, reaped: 0 } : ticks(spawner);
  return { self: (usage.user + usage.system) / 1000, children: ticks('self').reaped + helper.own + helper.reaped };
}

// Warm-up: the bwrap probe, the page cache, JIT.
for (const run of Object.values(variants)) await run();
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
// CPU is summed over all rounds: less sensitive to the machine's load than wall time, and what our code costs.
const cpuSelf: Record<string, number> = {};
const cpuChildren: Record<string, number> = {};
const loadBefore = loadavg();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(variants)) {
    const before = cpu();
    const started = performance.now();
    for (let i = 0; i < per; i++) await run();
    samples[name]!.push((performance.now() - started) / per);
    const after = cpu();
    cpuSelf[name] = (cpuSelf[name] ?? 0) + after.self - before.self;
    cpuChildren[name] = (cpuChildren[name] ?? 0) + after.children - before.children;
  }
}
const loadAfter = loadavg();
const processes = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
const base = median(samples['execa true (job.bench baseline)']!);
console.log(`${rounds} rounds × ${per} commands per variant, interleaved; load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} → ${loadAfter.map((x) => x.toFixed(1)).join(' ')}; ${processes} processes in /proc`);
console.log(`${'variant'.padEnd(52)} ${'ms/cmd'.padStart(7)} ${'over execa'.padStart(10)} ${'cpu node'.padStart(9)} ${'cpu child'.padStart(9)}`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  const n = rounds * per;
  const over = name.startsWith('taskSandbox') ? '' : (m - base).toFixed(2);
  console.log(`${name.padEnd(52)} ${m.toFixed(2).padStart(7)} ${over.padStart(10)} ${(cpuSelf[name]! / n).toFixed(2).padStart(9)} ${(cpuChildren[name]! / n).toFixed(2).padStart(9)}`);
}
const m = (name: string) => median(samples[name]!);
reportFigures('shell-activity', [
  { figure: 'shell activity (bwrap, no server) over a plain execa spawn', goal: 'info', measured: m('shell action, sandbox bwrap') - base, unit: 'ms', baseline: base, ratio: m('shell action, sandbox bwrap') / base, met: true },
  { figure: 'shell activity (sandbox none, no server) over a plain execa spawn', goal: 'info', measured: m('shell action, sandbox none') - base, unit: 'ms', baseline: base, ratio: m('shell action, sandbox none') / base, met: true },
]);
rmSync(scratch, { recursive: true, force: true });
