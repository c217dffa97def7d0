// `createrepo`: turn a directory of RPMs into a yum repository with createrepo_c (reference §1.5:
// `repodir`, relative to the task directory; any stderr output is an error; returns stdout).
import { readFile, stat, unlink } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { FailureType, stepFailure } from '../../common/failures.js';
import { logTail, runSupervised } from '../supervise.js';
import type { RunnerConfig } from '../runner-config.js';
import { actionLogFile, jobEnvironment, type ActionOutput, type ActionRequest } from './context.js';

export async function runCreaterepoAction(request: ActionRequest<{ repodir: string }>, config: RunnerConfig): Promise<ActionOutput> {
  const started = Date.now();
  const value = (request.params as { repodir?: unknown } | undefined)?.repodir;
  if (typeof value !== 'string' || value === '') {
    throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': createrepo: 'repodir' is required (a directory of RPMs)`);
  }
  const repodir = isAbsolute(value) ? value : resolve(request.job.taskdir, value);
  if (!(await stat(repodir).catch(() => undefined))?.isDirectory()) {
    throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': createrepo: repodir ${repodir} is not a directory`);
  }
  const logFile = actionLogFile(request);
  // stderr goes to a file of its own too: the original failed the action on any stderr output.
  const stderrFile = `${logFile}.stderr`;
  const result = await runSupervised({
    argv: ['/bin/sh', '-c', 'createrepo_c -- "$1" 2>"$2"; status=$?; cat "$2" >&2; exit $status', 'createrepo', repodir, stderrFile],
    cwd: request.job.taskdir,
    env: jobEnvironment(request.job),
    logFile,
    killGraceMs: config.killGraceMs,
    progress: { directive: 'createrepo', repodir },
  });
  const stderr = (await readFile(stderrFile, 'utf8').catch(() => '')).trim();
  await unlink(stderrFile).catch(() => undefined);
  if (result.exitCode !== 0 || stderr !== '') {
    const why = result.exitCode === 127 ? 'createrepo_c is not installed on this runner (Debian/Fedora package createrepo-c / createrepo_c)' : result.exitCode !== 0 ? `createrepo_c exited ${result.exitCode}` : 'createrepo_c wrote to stderr';
    throw stepFailure(FailureType.CommandFailed, `action '${request.name}': createrepo: ${why}`, { log: logFile, logTail: await logTail(logFile), exitCode: result.exitCode });
  }
  return { ...(request.exported ? { output: result.stdout } : {}), log: logFile, durationMs: Date.now() - started };
}
