// One activity per directive, named after it, so a job's history reads like its formula:
// prepareWorkspace, loadFormula, shell, python, resultsdb, exitcode, ...
import type { ShellCommand } from '../../formula/substitute.js';
import type { RunnerConfig } from '../runner-config.js';
import type { ActionOutput, ActionRequest } from './context.js';
import { runPythonAction, type PythonParams } from './python.js';
import { runShellAction } from './shell.js';
import { runCreateReportAction, runExitcodeAction, runXunitAction } from './results-directives.js';
import { runDummyAction, unavailable } from './simple.js';

export function createDirectiveActivities(config: RunnerConfig) {
  return {
    async shell(request: ActionRequest<ShellCommand[]>): Promise<ActionOutput> {
      return runShellAction(request, config);
    },
    async python(request: ActionRequest<PythonParams>): Promise<ActionOutput> {
      return runPythonAction(request, config);
    },
    async dummy(request: ActionRequest<{ result: string; msg?: string }>): Promise<ActionOutput> {
      return runDummyAction(request);
    },
    async exitcode(request: ActionRequest<{ result_last?: string; result_worst?: string }>): Promise<ActionOutput> {
      return runExitcodeAction(request);
    },
    async xunit(request: ActionRequest<Parameters<typeof runXunitAction>[0]['params']>): Promise<ActionOutput> {
      return runXunitAction(request);
    },
    async create_report(request: ActionRequest<Parameters<typeof runCreateReportAction>[0]['params']>): Promise<ActionOutput> {
      return runCreateReportAction(request);
    },
    async koji(request: ActionRequest): Promise<ActionOutput> {
      return unavailable('koji', request);
    },
    async bodhi(request: ActionRequest): Promise<ActionOutput> {
      return unavailable('bodhi', request);
    },
    async distgit(request: ActionRequest): Promise<ActionOutput> {
      return unavailable('distgit', request);
    },
    async createrepo(request: ActionRequest): Promise<ActionOutput> {
      return unavailable('createrepo', request);
    },
    async yumrepoinfo(request: ActionRequest): Promise<ActionOutput> {
      return unavailable('yumrepoinfo', request);
    },
  };
}

export type DirectiveActivities = ReturnType<typeof createDirectiveActivities>;
export type { ActionOutput, ActionRequest, JobPaths } from './context.js';
