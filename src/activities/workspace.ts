// Getting a host ready for a job: its directories, the task's code at the right commit (through a
// per-host git mirror of each task repo, so repeated jobs fetch deltas, not whole repos), the formula
// read and validated where the code is, and the environment checked. Every process goes through
// runSupervised, so a long clone or a wait for the mirror lock heartbeats and dies on cancellation.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { activityInfo } from '@temporalio/activity';
import type { TaskSource } from '../common/job.js';
import { formatDiagnostic } from '../formula/diagnostic.js';
import type { Formula } from '../formula/model.js';
import { parseFormula } from '../formula/parse.js';
import { FailureType, stepFailure } from '../common/failures.js';
import { artifactsDir, mirrorRoot, sandboxDirs, workDir, type RunnerConfig } from './runner-config.js';
import { jobSandbox, jobSandboxFor, jobSandboxSpec, pythonReadable, resolveSandbox, sandboxEnvironment, type JobSandbox } from './sandbox.js';
import type { JobPaths } from './directives/context.js';
import { forgetSandboxes, prestartSandbox } from './spawner.js';
import { heartbeatWhile, runSupervised } from './supervise.js';
import { SlotEndings } from './slot-endings.js';
import { jobArtifactsUrl } from '../artifacts/url.js';

export interface PrepareInput {
  uuid: string;
  task: string;
  source: TaskSource;
  /** Name of the workdir and artifacts dir; default the uuid. A re-run (reset) of a job gets its own. */
  dirName?: string;
}

export interface Workspace {
  hostname: string;
  taskdir: string;
  workdir: string;
  artifactsdir: string;
  /** The job's artifacts on the web (artifacts.base_url/<uuid>/), when one is configured. */
  artifactsUrl?: string;
  /** For git sources: the repository and the exact commit checked out. */
  repo?: string;
  commit?: string;
  /** The sandbox backend the job's commands run in on this host ('bwrap' or 'none'). */
  sandbox?: 'bwrap' | 'none';
  /** Why the job runs without the sandbox the runner asked for (backend auto without bubblewrap). */
  sandboxWarning?: string;
}

export interface LoadFormulaInput {
  taskdir: string;
  /** Relative to taskdir; default runtask.yml. */
  formula?: string;
}

export interface LoadedFormula {
  file: string;
  formula: Formula;
  warnings: string[];
}

/** One git operation per mirror at a time on this host: concurrent fetches would fight over its locks. */
const mirrorLocks = new Map<string, Promise<unknown>>();

async function withMirrorLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  // Each entry only ever resolves: it is the previous holder's turn followed by ours.
  const previous = mirrorLocks.get(path) ?? Promise.resolve();
  let release!: () => void;
  const ours = new Promise<void>((resolve) => (release = resolve));
  mirrorLocks.set(path, previous.then(() => ours));
  try {
    // Waiting behind another job's long clone is not a dead host: heartbeat while queued.
    await heartbeatWhile(previous, { waiting: 'mirror lock', mirror: path });
    return await work();
  } finally {
    // Also when cancelled while waiting: whoever is next still waits for `previous` first.
    release();
  }
}

/** Git for the runner itself (not sandboxed: it writes the host's mirrors); its output goes to `logFile`. */
async function git(args: string[], options: { cwd: string; logFile?: string; check?: boolean }): Promise<{ exitCode: number; stdout: string }> {
  const result = await runSupervised({
    argv: ['git', ...args],
    cwd: options.cwd,
    env: { GIT_TERMINAL_PROMPT: '0' },
    ...(options.logFile ? { logFile: options.logFile } : {}),
    progress: { git: args.find((a) => !a.startsWith('-') && !a.startsWith('/')) ?? args[0] },
  });
  if (result.exitCode !== 0 && options.check !== false) {
    throw stepFailure(FailureType.CheckoutFailed, `git ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderrTail.trim().split('\n').slice(-3).join(' | ')}`, {
      ...(options.logFile ? { log: options.logFile } : {}),
    });
  }
  return { exitCode: result.exitCode, stdout: result.stdout.trim() };
}

function mirrorPath(config: RunnerConfig, repo: string): string {
  const readable = repo.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80);
  const digest = createHash('sha256').update(repo).digest('hex').slice(0, 12);
  return join(mirrorRoot(config), `${readable}-${digest}.git`);
}

async function checkout(config: RunnerConfig, repo: string, ref: string, taskdir: string, logFile: string): Promise<string> {
  const mirror = mirrorPath(config, repo);
  await mkdir(mirrorRoot(config), { recursive: true });
  await withMirrorLock(mirror, async () => {
    if (existsSync(join(mirror, 'HEAD'))) {
      await git(['--git-dir', mirror, 'fetch', '--prune', '--tags', 'origin', '+refs/heads/*:refs/heads/*'], { cwd: mirrorRoot(config), logFile });
    } else {
      await rm(mirror, { recursive: true, force: true });
      await git(['clone', '--mirror', '--', repo, mirror], { cwd: mirrorRoot(config), logFile });
    }
  });
  await rm(taskdir, { recursive: true, force: true });
  await git(['clone', '--quiet', '--no-checkout', '--', mirror, taskdir], { cwd: mirrorRoot(config), logFile });
  let commit: string | undefined;
  for (const candidate of [`refs/remotes/origin/${ref}`, ref]) {
    const probe = await git(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`], { cwd: taskdir, check: false });
    if (probe.exitCode === 0) {
      commit = probe.stdout;
      break;
    }
  }
  if (!commit) throw stepFailure(FailureType.CheckoutFailed, `ref '${ref}' not found in ${repo}`);
  await git(['checkout', '--quiet', '--detach', commit], { cwd: taskdir, logFile });
  // The namespace whitelist judges a task by where it came from, not by our mirror's path.
  await git(['remote', 'set-url', 'origin', repo], { cwd: taskdir, logFile });
  return commit;
}

/** Jobs prepared here whose formula is not read yet, at most: older entries are forgotten first. */
const PREPARED_JOBS_KEPT = 256;

/**
 * Has the job's sandboxes set up for the kinds of command its formula runs (spawner.ts), while the
 * job goes on to its first action: the shell one if it has a shell action; the python one, as the
 * python directive will ask for it, if it has a python action whose file is written out (one built
 * from variables is only known when the action runs, and its first command sets one up then). A job
 * with no command of a kind pays nothing for that kind (~35 ms of CPU and ~11 MB while it runs).
 */
function setUpSandboxesAhead(config: RunnerConfig, job: Pick<JobPaths, 'taskdir' | 'workdir' | 'artifactsdir'>, formula: Formula): void {
  const path = sandboxEnvironment(config.sandbox, {}).PATH;
  const sandboxes: (JobSandbox | undefined)[] = [];
  // Its commands' programs vary; each is checked when it runs.
  if (formula.actions.some((action) => action.directive === 'shell')) sandboxes.push(jobSandbox(jobSandboxSpec(config, job)));
  const file = (formula.actions.find((action) => action.directive === 'python')?.params as { file?: unknown } | undefined)?.file;
  // As the directive will ask for it: none when its interpreter is not sure to be found inside.
  if (typeof file === 'string' && !file.includes('$')) sandboxes.push(jobSandboxFor(config.python, path, jobSandboxSpec(config, job, pythonReadable(config, file))));
  // The same sandbox twice (the system's python3 needs nothing the shell one lacks) is set up once.
  for (const sandbox of sandboxes) if (sandbox) prestartSandbox(sandbox, path);
}

export function createWorkspaceActivities(config: RunnerConfig, hostname: string = osHostname(), endings: SlotEndings = new SlotEndings()) {
  // A bwrap job's directories from prepareWorkspace, by task directory, until loadFormula (the next
  // step, on this host) knows which sandboxes the job needs. A runner restarted in between has none:
  // then each kind's first command sets its sandbox up.
  const prepared = new Map<string, Pick<JobPaths, 'taskdir' | 'workdir' | 'artifactsdir'>>();
  const remember = (job: Pick<JobPaths, 'taskdir' | 'workdir' | 'artifactsdir'>) => {
    prepared.delete(job.taskdir);
    prepared.set(job.taskdir, job);
    if (prepared.size > PREPARED_JOBS_KEPT) prepared.delete(prepared.keys().next().value!);
  };
  return {
    /**
     * The end of a job on this host: its scratch space (work/<uuid>, the task checkout included) is
     * removed; its artifacts stay for the web server and the retention sweep. Idempotent.
     */
    async removeWorkdir(input: { uuid: string; dirName?: string }): Promise<{ removed?: string; kept?: string }> {
      const workdir = workDir(config, input.dirName ?? input.uuid);
      // The job lets go of its slot here next: have the slot listen closely (slot-endings.ts).
      const info = activityInfo().workflowExecution;
      const run = info ? `${info.workflowId}/${info.runId}` : undefined;
      if (run) endings.ending(run);
      try {
        // No sandbox may wait for a next command of this job (spawner.ts).
        forgetSandboxes(workdir);
        // runner.keep_workdirs: the operator (or a task author with runtask) wants to look inside.
        if (config.keepWorkdirs) return { kept: workdir };
        await rm(workdir, { recursive: true, force: true });
        return { removed: workdir };
      } finally {
        // The job's last step here is over (whatever became of the directory): a slot that ends
        // itself lets go now, before this step's own completion reaches the job.
        if (run) endings.ended(run);
      }
    },
    /** Directories for the job and the task's code; idempotent for retries of the same run. */
    async prepareWorkspace(input: PrepareInput): Promise<Workspace> {
      const info = activityInfo();
      const owner = info.workflowExecution ? `${info.workflowExecution.workflowId}/${info.workflowExecution.runId}` : `activity ${info.activityId}`;
      const artifactsdir = artifactsDir(config, input.dirName ?? input.uuid);
      const workdir = workDir(config, input.dirName ?? input.uuid);
      const marker = join(artifactsdir, 'taskotron', 'job');
      if (existsSync(marker)) {
        const existing = (await readFile(marker, 'utf8')).trim();
        if (existing !== owner) {
          throw stepFailure(FailureType.DuplicateJob, `artifacts for uuid ${input.uuid} already belong to ${existing}; refusing to run ${owner} over them`);
        }
      }
      await mkdir(join(artifactsdir, 'taskotron'), { recursive: true });
      await writeFile(marker, `${owner}\n`);
      // A job's scratch space starts empty every time (the original wiped /var/tmp/taskotron before each job).
      // So do its private /tmp and $HOME.
      const { tmp, home } = sandboxDirs(config, basename(workdir));
      forgetSandboxes(workdir);
      await rm(workdir, { recursive: true, force: true });
      await rm(dirname(tmp), { recursive: true, force: true });
      await Promise.all([mkdir(workdir, { recursive: true }), mkdir(tmp, { recursive: true }), mkdir(home, { recursive: true })]);
      const { backend, warning } = await resolveSandbox(config.sandbox);
      const sandbox = { sandbox: backend.name, ...(warning ? { sandboxWarning: warning } : {}) };
      const web = config.artifactsBaseUrl ? { artifactsUrl: jobArtifactsUrl(config.artifactsBaseUrl, input.uuid) } : {};
      // loadFormula sets the job's sandboxes up once it knows which kinds the job needs.
      const bwrap = (taskdir: string) => {
        if (backend.name === 'bwrap') remember({ taskdir, workdir, artifactsdir });
      };
      if (input.source.kind === 'local') {
        const taskdir = resolve(input.source.path);
        if (!existsSync(taskdir)) throw stepFailure(FailureType.InvalidFormula, `task directory ${taskdir} does not exist on ${hostname}`);
        bwrap(taskdir);
        return { hostname, taskdir, workdir, artifactsdir, ...web, ...sandbox };
      }
      const taskdir = join(workdir, 'task');
      const commit = await checkout(config, input.source.repo, input.source.ref, taskdir, join(artifactsdir, 'taskotron', '00-prepare.log'));
      bwrap(taskdir);
      return { hostname, taskdir, workdir, artifactsdir, ...web, repo: input.source.repo, commit, ...sandbox };
    },

    /** Reads and validates the formula on the host; the parsed formula enters workflow history. */
    async loadFormula(input: LoadFormulaInput): Promise<LoadedFormula> {
      const relative = input.formula ?? 'runtask.yml';
      const file = isAbsolute(relative) ? relative : join(input.taskdir, relative);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw stepFailure(FailureType.InvalidFormula, `cannot read formula ${file}: ${(error as Error).message}`);
      }
      const parsed = parseFormula(text, file);
      if (!parsed.formula || parsed.errors.length > 0) {
        const lines = parsed.errors.map(formatDiagnostic);
        throw stepFailure(FailureType.InvalidFormula, `invalid formula ${file}:\n${lines.join('\n')}`, { errors: lines });
      }
      const job = prepared.get(input.taskdir);
      if (job) {
        prepared.delete(input.taskdir);
        setUpSandboxesAhead(config, job, parsed.formula);
      }
      return { file, formula: parsed.formula, warnings: parsed.warnings.map(formatDiagnostic) };
    },

    /** Verifies environment.rpm (package names or file paths) is present; installs them only when allowed. */
    async checkEnvironment(input: { rpm: string[] }): Promise<{ present: string[]; installed: string[] }> {
      const missing: string[] = [];
      const present: string[] = [];
      for (const dependency of input.rpm) {
        if (await isInstalled(dependency)) present.push(dependency);
        else missing.push(dependency);
      }
      if (missing.length === 0) return { present, installed: [] };
      const hasDnf = await commandExists('dnf');
      if (config.installDependencies && hasDnf) {
        // The runner's own tool on the host's OS: supervised, never sandboxed (it installs into the host).
        const result = await runSupervised({ argv: ['dnf', 'install', '-y', '--', ...missing], cwd: '/', progress: { installing: missing.join(' ') } });
        if (result.exitCode === 0) return { present, installed: missing };
        throw stepFailure(FailureType.MissingDependencies, `dnf could not install ${missing.join(', ')} (exit ${result.exitCode})`, {
          logTail: result.stderrTail.split('\n').slice(-40).join('\n'),
        });
      }
      // environment.rpm names Fedora packages: say what a task author can do about it on this host.
      const advice = hasDnf
        ? 'installing them is off on this runner: TASKOTRON_INSTALL_DEPS=1 (or `taskotron worker --install-deps`) lets it install them with dnf'
        : config.installDependencies
          ? 'installing them needs dnf, which this host lacks: run the task on a Fedora runner (or a Fedora container), or install the equivalents yourself and try the formula without environment.rpm'
          : 'installing them is off on this runner (TASKOTRON_INSTALL_DEPS=1 turns it on) and would need dnf, which this host lacks: environment.rpm names Fedora packages, so run the task on a Fedora runner (or a Fedora container), or install the equivalents yourself and try the formula without environment.rpm';
      throw stepFailure(
        FailureType.MissingDependencies,
        `${hostname} lacks the task's dependencies: ${missing.join(', ')} (${advice})`,
        { missing },
      );
    },
  };
}

async function quietly(argv: string[]): Promise<{ exitCode: number; stdout: string }> {
  return runSupervised({ argv, cwd: '/', timeoutMs: 60_000 });
}

async function commandExists(name: string): Promise<boolean> {
  return (await quietly(['sh', '-c', 'command -v "$1"', 'sh', name])).exitCode === 0;
}

async function isInstalled(dependency: string): Promise<boolean> {
  if (dependency.startsWith('/')) return existsSync(dependency);
  if (await commandExists('rpm')) {
    if ((await quietly(['rpm', '-q', '--whatprovides', '--', dependency])).exitCode === 0) return true;
  }
  if (await commandExists('dpkg-query')) {
    const dpkg = await quietly(['dpkg-query', '-W', '-f=${Status}', '--', dependency]);
    if (dpkg.exitCode === 0 && dpkg.stdout.includes('install ok installed')) return true;
  }
  return false;
}

export type WorkspaceActivities = ReturnType<typeof createWorkspaceActivities>;
