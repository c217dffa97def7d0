// `python`: import `file` from the task directory and call `callable` with every other parameter as a
// keyword argument, through a small runner script; the callable's return value (a string, usually
// ResultYAML, or JSON data) is the action's output. The interpreter runs in the job's sandbox.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { projectRoot } from '../../devserver/project.js';
import { FailureType, stepFailure } from '../../common/failures.js';
import type { RunnerConfig } from '../runner-config.js';
import { pythonReadable, taskSandbox } from '../sandbox.js';
import { logTail, runSupervised } from '../supervise.js';
import { actionLogFile, MAX_EXPORT_BYTES, type ActionOutput, type ActionRequest } from './context.js';

export interface PythonParams {
  file: string;
  callable: string;
  [kwarg: string]: unknown;
}

const EXIT_MEANING: Record<number, string> = { 3: 'the file or callable could not be loaded', 4: 'the return value is neither a string nor JSON' };

export async function runPythonAction(request: ActionRequest<PythonParams>, config: RunnerConfig): Promise<ActionOutput> {
  const python = config.python;
  const started = Date.now();
  const { file, callable, ...kwargs } = request.params;
  const path = isAbsolute(file) ? file : join(request.job.taskdir, file);
  if (!existsSync(path)) throw stepFailure(FailureType.InvalidParameters, `action '${request.name}': python file ${path} does not exist`);
  const logFile = actionLogFile(request);
  const stem = join(request.job.workdir, `.python-${request.index}`);
  await writeFile(`${stem}.request.json`, JSON.stringify(kwargs));
  // A file outside the task directory (an absolute path) must stay readable in the sandbox too.
  const { sandbox, env, warning } = await taskSandbox(config, request.job, pythonReadable(config, file), { PYTHONUNBUFFERED: '1' });
  const result = await runSupervised({
    argv: [python, join(projectRoot(), 'src', 'activities', 'python_runner.py'), request.job.taskdir, file, callable, `${stem}.request.json`, `${stem}.result.json`],
    cwd: request.job.taskdir,
    env,
    sandbox,
    logFile,
    killGraceMs: config.killGraceMs,
    progress: { action: request.name, callable },
  });
  if (result.exitCode !== 0) {
    const why = EXIT_MEANING[result.exitCode] ?? 'the callable raised';
    throw stepFailure(FailureType.DirectiveFailed, `action '${request.name}': ${file}:${callable} failed (${why}, exit ${result.exitCode})`, {
      exitCode: result.exitCode,
      log: logFile,
      logTail: await logTail(logFile),
    });
  }
  const returned = JSON.parse(await readFile(`${stem}.result.json`, 'utf8')) as { kind: 'none' | 'string' | 'json'; value?: unknown };
  const output = returned.kind === 'none' ? null : returned.value;
  if (request.exported && Buffer.byteLength(JSON.stringify(output)) > MAX_EXPORT_BYTES) {
    throw stepFailure(FailureType.OutputTooLarge, `action '${request.name}' returned more than ${MAX_EXPORT_BYTES} bytes; write large data to a file in \${workdir} and return its path`);
  }
  return { ...(request.exported ? { output } : {}), log: logFile, sandbox: sandbox.backend.name, ...(warning ? { sandboxWarning: warning } : {}), durationMs: Date.now() - started };
}
