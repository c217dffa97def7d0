// `shell`: a list of commands run in order in the task directory. Strings run through /bin/sh -c (the
// workflow has already quoted every substituted value as one word); argv lists run directly. A
// non-zero exit fails the action unless the command was wrapped in `ignorereturn`. The output is the
// commands' stdout, concatenated, without the final newline (as `$(...)` would give it). Every
// command runs in the job's sandbox.
import type { ShellCommand } from '../../formula/substitute.js';
import { FailureType, stepFailure } from '../../common/failures.js';
import type { RunnerConfig } from '../runner-config.js';
import { taskSandbox } from '../sandbox.js';
import { logTail, runSupervised } from '../supervise.js';
import { actionLogFile, MAX_EXPORT_BYTES, type ActionOutput, type ActionRequest } from './context.js';

export async function runShellAction(request: ActionRequest<ShellCommand[]>, config: RunnerConfig): Promise<ActionOutput> {
  const started = Date.now();
  const logFile = actionLogFile(request);
  const { sandbox, env, warning } = await taskSandbox(config, request.job);
  const outputs: string[] = [];
  for (const [position, command] of request.params.entries()) {
    const argv = command.kind === 'script' ? ['/bin/sh', '-c', command.script] : command.argv;
    const result = await runSupervised({
      argv,
      cwd: request.job.taskdir,
      env,
      sandbox,
      logFile,
      killGraceMs: config.killGraceMs,
      progress: { action: request.name, command: position + 1, of: request.params.length },
    });
    if (result.exitCode !== 0 && !command.ignoreReturn) {
      throw stepFailure(
        FailureType.CommandFailed,
        `action '${request.name}': command ${position + 1} of ${request.params.length} exited with ${result.exitCode}${result.signal ? ` (${result.signal})` : ''}`,
        { exitCode: result.exitCode, log: logFile, logTail: await logTail(logFile) },
      );
    }
    outputs.push(result.stdout);
  }
  const output = outputs.join('').replace(/\n$/, '');
  if (request.exported && Buffer.byteLength(output) > MAX_EXPORT_BYTES) {
    throw stepFailure(FailureType.OutputTooLarge, `action '${request.name}' exports ${Buffer.byteLength(output)} bytes of output; the limit is ${MAX_EXPORT_BYTES} — write large data to a file in \${workdir} and export its path`, { log: logFile });
  }
  return { ...(request.exported ? { output } : {}), log: logFile, sandbox: sandbox.backend.name, ...(warning ? { sandboxWarning: warning } : {}), durationMs: Date.now() - started };
}
