// A disposable sandbox per job. Every task command (shell, python) runs through a SandboxBackend:
// bubblewrap gives the job user, PID, IPC and UTS namespaces of its own over a read-only view of the
// host, with only the job's workdir, artifacts, private /tmp and $HOME writable. The job's commands
// run in one such sandbox per kind (JobSandbox: its agent starts them), or each in a bwrap of its
// own when that cannot be; either way, when a command's first process ends, everything it started
// (setsid daemons included) is killed before its step ends. `none` runs commands directly, for hosts
// without user namespaces. The interface is
// small on purpose — a VM backend (testcloud/libvirt) would implement wrap() as "ssh into the job's
// VM" and prepare the VM in prepareWorkspace.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isExecutable } from '../common/files.js';
import { projectRoot } from '../devserver/project.js';
import { jobEnvironment, type JobPaths } from './directives/context.js';
import { CREDENTIAL_VARIABLES, sandboxDirs, type RunnerConfig, type SandboxSettings } from './runner-config.js';
import { runSupervised } from './supervise.js';

export type SandboxBackendName = 'bwrap' | 'none';

/** What one job may see and touch; the same for every command of the job. */
export interface SandboxSpec {
  /** Directories the job writes (its workdir and artifacts), visible at their own paths. */
  writable: string[];
  /** Paths the job must read even when they lie under a hidden directory (task dir, runner script). */
  readable: string[];
  /** The job's private /tmp and $HOME on the host; they live as long as the job's workdir. */
  tmp: string;
  home: string;
  /** Directories whose contents the job must not see (the runner user's home): empty inside. */
  hideDirs: string[];
  /** Files the job must not read (the runner's TLS keys, password files): empty inside. */
  hideFiles: string[];
  network: boolean;
}

export interface SandboxBackend {
  readonly name: SandboxBackendName;
  /**
   * Whether the backend itself ends every process of a command when the command ends (a PID
   * namespace, a VM). When not, runSupervised marks the command's processes and kills the stragglers.
   */
  readonly containsProcesses: boolean;
  /** The argv that runs `argv` in `cwd` inside the sandbox. */
  wrap(argv: string[], cwd: string, spec: SandboxSpec): string[];
  /** Variables the backend sets for the command (HOME, TMPDIR as the command sees them). */
  environment(spec: SandboxSpec): Record<string, string>;
  /**
   * How to run this command in the job's sandbox of its kind, set up once for the job's commands
   * (spawner.ts); undefined when this command cannot run in one.
   */
  prestart?(argv: string[], cwd: string, spec: SandboxSpec, env: Record<string, string>): Prestart | undefined;
}

/**
 * A job's sandbox of one kind: the same bwrap, namespaces and mounts a command of the job would get
 * on its own, set up once, with an agent waiting inside (spawner.ts) that starts the job's commands
 * one at a time and kills whatever a command leaves behind before the step ends. Setting a sandbox
 * up costs several ms of kernel work (namespaces, mounts: bench/job.bench.ts); a job pays it once
 * per kind instead of once per command.
 */
export interface JobSandbox {
  /** The same for every command that may run in the same sandbox: its bwrap arguments. */
  key: string;
  file: string;
  args: string[];
  /**
   * The host paths the sandbox binds. It holds on to the directories as they were when it was set
   * up; if one has been replaced since (removed and made again), it is stale.
   */
  sources: string[];
}

/** A command to run in its job's sandbox, as the command's own bwrap would have run it. */
export interface Prestart extends JobSandbox {
  argv: string[];
  cwd: string;
  /** Its whole environment, `PWD` included as bwrap sets it. */
  env: Record<string, string>;
}

export const noSandbox: SandboxBackend = {
  name: 'none',
  containsProcesses: false,
  wrap: (argv) => argv,
  environment: (spec) => ({ HOME: spec.home, TMPDIR: spec.tmp }),
};

function under(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The bwrap command that runs `argv` in `cwd` inside the job's sandbox. `asInit`: argv is the PID
 * namespace's init itself (the job sandbox's agent) instead of a child of bwrap's own init.
 */
function bwrapArgv(argv: string[], cwd: string, spec: SandboxSpec, asInit = false): string[] {
  const args = [
    'bwrap',
    // The sandbox dies with the process the runner supervises, and a task cannot push keystrokes
    // into a terminal outside it (TIOCSTI).
    '--die-with-parent',
    '--new-session',
    // A user namespace drops every capability, so even a runner running as root cannot remount
    // the read-only host; the PID namespace hides the runner, and what a command leaves in it dies with
  // the namespace (a command's own bwrap) or by the agent's hand (the job's sandbox).
    '--unshare-user',
    '--unshare-pid',
    ...(asInit ? ['--as-pid-1'] : []),
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(spec.network ? [] : ['--unshare-net']),
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
  ];
  const hidden = ['/tmp'];
  for (const dir of spec.hideDirs) {
    if (dir !== '/' && existsSync(dir)) {
      args.push('--tmpfs', dir);
      hidden.push(dir);
    }
  }
  args.push('--bind', spec.tmp, '/tmp');
  // Later mounts cover earlier ones: what the job must read comes back on top of what was hidden.
  for (const path of spec.readable) {
    if (hidden.some((dir) => under(path, dir))) args.push('--ro-bind-try', path, path);
  }
  for (const dir of [spec.home, ...spec.writable]) args.push('--bind', dir, dir);
  for (const file of spec.hideFiles) {
    if (existsSync(file)) args.push('--ro-bind', '/dev/null', file);
  }
  // The empty stand-ins are read-only too (after the mounts above made their mount points).
  for (const dir of hidden.slice(1)) args.push('--remount-ro', dir);
  args.push('--chdir', cwd, '--', ...argv);
  return args;
}

export const bubblewrap: SandboxBackend = {
  name: 'bwrap',
  containsProcesses: true,
  wrap: (argv, cwd, spec) => bwrapArgv(argv, cwd, spec),
  environment: (spec) => ({ HOME: spec.home, TMPDIR: '/tmp' }),
  prestart(argv, cwd, spec, env) {
    const sandbox = jobSandboxFor(argv[0], env.PATH, spec);
    if (!sandbox) return undefined;
    // bwrap sets PWD to its --chdir for the command it starts; the agent must do the same.
    return { ...sandbox, argv, cwd, env: { ...Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'PWD')), PWD: cwd } };
  },
};

/**
 * The job's bwrap sandbox of a kind (its spec), set up before any command of it is known: what
 * Prestart carries besides the command (loadFormula sets up those the job's formula will use).
 * Undefined when the agent's Python or script is not there.
 */
export function jobSandbox(spec: SandboxSpec): JobSandbox | undefined {
  const python = AGENT_PYTHONS.find((path) => findsProgram(path, undefined, spec));
  if (!python || !existsSync(AGENT_SCRIPT)) return undefined;
  // Its directory is readable in every job's sandbox anyway (jobSandboxSpec), for python_runner.py.
  const withAgent = spec.readable.some((path) => under(AGENT_SCRIPT, path)) ? spec : { ...spec, readable: [...spec.readable, dirname(AGENT_SCRIPT)] };
  // The agent is the namespace's init: no signal from a task reaches it (job_sandbox_agent.py).
  const [file, ...args] = bwrapArgv([python, '-S', AGENT_SCRIPT, AGENT_NAME], '/', withAgent, true);
  return { key: JSON.stringify([file, ...args]), file: file!, args, sources: [spec.tmp, spec.home, ...spec.writable, ...spec.readable] };
}

/**
 * The job's sandbox a command of `program` runs in, if the sandbox is sure to find the program:
 * one the agent cannot start (a missing working directory, a bad #! line) it hands back, and a bwrap
 * of the command's own says why in bwrap's words and exit code (1); but that costs the agent's
 * attempt first.
 */
export function jobSandboxFor(program: string | undefined, path: string | undefined, spec: SandboxSpec): JobSandbox | undefined {
  return program && findsProgram(program, path, spec) ? jobSandbox(spec) : undefined;
}

/** The system's Python (not a virtualenv: the agent needs nothing but the standard library). */
const AGENT_PYTHONS = ['/usr/bin/python3', '/usr/local/bin/python3'];
/** Readable in every job sandbox, as python_runner.py beside it is (jobSandboxSpec). */
const AGENT_SCRIPT = join(projectRoot(), 'src', 'activities', 'job_sandbox_agent.py');
/** The agent's last argument: its name in `ps`. */
export const AGENT_NAME = 'taskotron-job-sandbox';

/**
 * Whether `program` is there for the sandbox to run, as execvp looks for it (in PATH when it has no
 * '/'): judged on the host, which the sandbox shows as it is except for /tmp and the hidden
 * directories (empty inside, apart from what is bound back into them). Anything else, a relative
 * PATH entry included, is left to bwrap to find or report.
 */
function findsProgram(program: string, path: string | undefined, spec: SandboxSpec): boolean {
  const hiddenDir = (file: string) => spec.hideDirs.some((dir) => under(file, dir));
  // Inside, /tmp is the job's own, and a hidden file is /dev/null.
  const differsInside = (file: string) => under(file, '/tmp') || spec.hideFiles.includes(file);
  // A program in a hidden directory is there when a readable path brings it back (the python
  // directive's interpreter in a virtualenv under the runner's home: pythonReadable).
  const boundBack = (file: string) => spec.readable.some((bound) => under(file, bound));
  if (program.includes('/')) return isAbsolute(program) && (!hiddenDir(program) || boundBack(program)) && !differsInside(program) && isExecutable(program);
  if (path === undefined) return false;
  for (const dir of path.split(':')) {
    if (!isAbsolute(dir) || differsInside(dir)) return false;
    if (hiddenDir(dir)) {
      // Empty inside, so execvp finds nothing there, unless something was bound back into it.
      if ([spec.home, ...spec.writable, ...spec.readable].some((bound) => under(bound, dir) || under(dir, bound))) return false;
      continue;
    }
    const candidate = join(dir, program);
    if (differsInside(candidate)) return false;
    if (isExecutable(candidate)) return true;
  }
  return false;
}

const BWRAP_PROBE = ['bwrap', '--die-with-parent', '--unshare-user', '--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', 'true'];

let probe: Promise<{ works: boolean; why: string }> | undefined;

/**
 * Whether bubblewrap runs here (it needs user namespaces); asked once per runner process. Only a
 * probe that ran to its end is remembered: one cut short (the step cancelled, a time limit on a
 * loaded host) must not leave the runner unsandboxed for good.
 */
function bwrapWorks(): Promise<{ works: boolean; why: string }> {
  probe ??= runSupervised({ argv: BWRAP_PROBE, cwd: '/', timeoutMs: 30_000 }).then(
    (result) => {
      if (result.timedOut) probe = undefined;
      return { works: result.exitCode === 0, why: result.exitCode === 0 ? '' : `bwrap exited ${result.exitCode}: ${result.stderrTail.trim()}` };
    },
    (error: Error) => {
      probe = undefined;
      // Not being able to start bwrap at all is an answer; a cancelled step is not.
      if (/cannot run bwrap/.test(error.message)) return { works: false, why: error.message };
      throw error;
    },
  );
  return probe;
}

/** The shared probe may have been started (and cancelled) by another step: then ask again. */
async function bwrapWorksHere(): Promise<{ works: boolean; why: string }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await bwrapWorks();
    } catch (error) {
      if (Context.current().cancellationSignal.aborted || attempt >= 3) throw error;
    }
  }
}

export interface ResolvedSandbox {
  backend: SandboxBackend;
  /** Set when `auto` fell back to `none`: the job records why it ran unconfined. */
  warning?: string;
}

/** The backend the settings ask for on this host; `bwrap` that cannot run fails the step. */
export async function resolveSandbox(settings: SandboxSettings): Promise<ResolvedSandbox> {
  if (settings.backend === 'none') return { backend: noSandbox };
  const { works, why } = await bwrapWorksHere();
  if (works) return { backend: bubblewrap };
  if (settings.backend === 'bwrap') {
    throw ApplicationFailure.create({
      type: 'SandboxUnavailable',
      message: `runner.sandbox.backend is bwrap but bubblewrap does not work on this host (${why}); install the Debian/Fedora package bubblewrap and allow user namespaces, or set TASKOTRON_SANDBOX=none`,
      nonRetryable: true,
    });
  }
  return { backend: noSandbox, warning: `bubblewrap does not work on this host (${why}): task commands ran without a sandbox` };
}

/** The sandbox of one job on this host. */
export function jobSandboxSpec(config: RunnerConfig, job: Pick<JobPaths, 'taskdir' | 'workdir' | 'artifactsdir'>, extraReadable: string[] = []): SandboxSpec {
  // Named like the workdir, so a re-run with its own workdir also gets its own /tmp and $HOME.
  const { tmp, home } = sandboxDirs(config, basename(job.workdir));
  const runnerHome = homedir();
  return {
    writable: [job.workdir, job.artifactsdir],
    // The runner root stays readable (read-only) for tasks that look at their siblings' layout.
    readable: [config.root, job.taskdir, join(projectRoot(), 'src', 'activities'), ...extraReadable],
    tmp,
    home,
    hideDirs: runnerHome && runnerHome !== '/' ? [runnerHome] : [],
    hideFiles: config.sandbox.hideFiles ?? [],
    network: config.sandbox.network,
  };
}

/**
 * What the python directive's sandbox reads besides a job's usual directories: where the interpreter
 * lives, and the action's file when it lies outside the task directory (an absolute path). One
 * function for the directive and for loadFormula, which sets the job's python sandbox up ahead of
 * it: a different list would be a different sandbox (Prestart's key), never used.
 */
export function pythonReadable(config: RunnerConfig, file: string): string[] {
  return [...interpreterPrefix(config.python), ...(isAbsolute(file) ? [file] : [])];
}

/** Where an interpreter lives, so a virtualenv under the runner's home stays usable in the sandbox. */
export function interpreterPrefix(executable: string): string[] {
  return isAbsolute(executable) ? [dirname(dirname(executable))] : [];
}

const LOCALE = /^(LANG|LANGUAGE|LC_[A-Z_]+|TZ)$/;

/**
 * A task command's environment, built from an allow-list: PATH and the locale from the runner, the
 * job's own variables, what runner.sandbox.env adds, and HOME/TMPDIR pointing into the sandbox.
 * Nothing else of the runner's environment — its credentials above all — reaches a task.
 */
export function sandboxEnvironment(
  settings: SandboxSettings,
  jobVariables: Record<string, string>,
  runnerEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = { PATH: runnerEnv.PATH || '/usr/local/bin:/usr/bin:/bin' };
  for (const [name, value] of Object.entries(runnerEnv)) {
    if (LOCALE.test(name) && value !== undefined) env[name] = value;
  }
  for (const entry of settings.env) {
    const equals = entry.indexOf('=');
    const name = equals >= 0 ? entry.slice(0, equals) : entry;
    if (CREDENTIAL_VARIABLES.test(name)) continue;
    if (equals >= 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
    else if (runnerEnv[entry] !== undefined) env[entry] = runnerEnv[entry]!;
  }
  return { ...env, ...jobVariables };
}

export interface TaskSandbox {
  sandbox: { backend: SandboxBackend; spec: SandboxSpec };
  env: Record<string, string>;
  warning?: string;
}

/** Everything a task command of this job needs to run in the job's sandbox. */
export async function taskSandbox(config: RunnerConfig, job: JobPaths, extraReadable: string[] = [], extraEnv: Record<string, string> = {}): Promise<TaskSandbox> {
  const { backend, warning } = await resolveSandbox(config.sandbox);
  const spec = jobSandboxSpec(config, job, extraReadable);
  // The job's /tmp and $HOME usually exist since prepareWorkspace; a retried step on an older
  // layout must not fail for want of them.
  await Promise.all([mkdir(spec.tmp, { recursive: true }), mkdir(spec.home, { recursive: true })]);
  return {
    sandbox: { backend, spec },
    env: { ...sandboxEnvironment(config.sandbox, { ...jobEnvironment(job), ...extraEnv }) },
    ...(warning ? { warning } : {}),
  };
}
