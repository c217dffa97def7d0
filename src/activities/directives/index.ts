// One activity per directive, named after it, so a job's history reads like its formula:
// prepareWorkspace, loadFormula, shell, python, resultsdb, exitcode, ...
import type { ShellCommand } from '../../formula/substitute.js';
import type { RunnerConfig } from '../runner-config.js';
import type { ActionOutput, ActionRequest } from './context.js';
import { runPythonAction, type PythonParams } from './python.js';
import { runShellAction } from './shell.js';
import { runCreateReportAction, runExitcodeAction, runXunitAction } from './results-directives.js';
import { runDummyAction } from './simple.js';
import { runKojiAction, type KojiParams } from './koji.js';
import { runBodhiAction, type BodhiParams } from './bodhi.js';
import { runDistgitAction, type DistgitParams } from './distgit.js';
import { runCreaterepoAction } from './createrepo.js';
import { runYumrepoinfoAction } from './yumrepoinfo.js';

export function createDirectiveActivities(config: RunnerConfig) {
  return {
    async shell(request: ActionRequest<ShellCommand[]>): Promise<ActionOutput> {
      return runShellAction(request, config.killGraceMs);
    },
    async python(request: ActionRequest<PythonParams>): Promise<ActionOutput> {
      return runPythonAction(request, config.python, config.killGraceMs);
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
    async koji(request: ActionRequest<KojiParams>): Promise<ActionOutput> {
      return runKojiAction(request, config);
    },
    async bodhi(request: ActionRequest<BodhiParams>): Promise<ActionOutput> {
      return runBodhiAction(request, config);
    },
    async distgit(request: ActionRequest<DistgitParams>): Promise<ActionOutput> {
      return runDistgitAction(request, config);
    },
    async createrepo(request: ActionRequest<{ repodir: string }>): Promise<ActionOutput> {
      return runCreaterepoAction(request, config);
    },
    async yumrepoinfo(request: ActionRequest<{ koji_tag: string; arch: string | string[] }>): Promise<ActionOutput> {
      return runYumrepoinfoAction(request, config);
    },
  };
}

export type DirectiveActivities = ReturnType<typeof createDirectiveActivities>;
export type { ActionOutput, ActionRequest, JobPaths } from './context.js';
