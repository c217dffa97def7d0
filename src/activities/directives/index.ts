// One activity per directive, named after it, so a job's history reads like its formula:
// prepareWorkspace, loadFormula, shell, python, resultsdb, exitcode, ...
import { ApplicationFailure } from '@temporalio/common';
import { artifactUrl } from '../../artifacts/url.js';
import type { StepFailureDetails } from '../../common/failures.js';
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
  const activities = {
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
  const base = config.artifactsBaseUrl;
  if (!base) return activities;
  // Every action's log, wherever it ended, also as a link: in the output and in a failure's details.
  const linked = {} as typeof activities;
  for (const [name, run] of Object.entries(activities) as [keyof typeof activities, (r: ActionRequest) => Promise<ActionOutput>][]) {
    (linked as Record<string, (r: ActionRequest) => Promise<ActionOutput>>)[name] = async (request: ActionRequest) => {
      const link = (log: unknown) => (typeof log === 'string' ? artifactUrl(base, request.job.uuid, request.job.artifactsdir, log) : undefined);
      try {
        const output = await run(request);
        const logUrl = link(output.log);
        return logUrl ? { ...output, logUrl } : output;
      } catch (error) {
        const details = error instanceof ApplicationFailure ? (error.details?.[0] as StepFailureDetails | undefined) : undefined;
        const logUrl = link(details?.log);
        if (details && logUrl) details.logUrl = logUrl;
        throw error;
      }
    };
  }
  return linked;
}

export type DirectiveActivities = ReturnType<typeof createDirectiveActivities>;
export type { ActionOutput, ActionRequest, JobPaths } from './context.js';
