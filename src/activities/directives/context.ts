// What every directive activity receives: the action (parameters already substituted by the
// workflow, so history shows exactly what ran) and where the job lives on this host.
import { join } from 'node:path';
import type { ReportedResult } from '../../common/job.js';

export interface JobPaths {
  uuid: string;
  task: string;
  item: string;
  itemType: string;
  arch: string;
  taskdir: string;
  workdir: string;
  artifactsdir: string;
  namespace?: string;
}

export interface ActionRequest<P = unknown> {
  /** 1-based position in the formula. */
  index: number;
  name: string;
  params: P;
  /** Whether a later action uses the output; only then does it travel back into history. */
  exported: boolean;
  job: JobPaths;
}

export interface ActionOutput {
  /** The directive's return value (only when exported). */
  output?: unknown;
  /** For `exitcode`: the code runtask should exit with. */
  exitCode?: number;
  /** For `resultsdb`: what was reported. */
  results?: ReportedResult[];
  /** Where this action's log is on the host. */
  log?: string;
  /** For commands: the sandbox backend they ran in ('bwrap' or 'none'), for the job result. */
  sandbox?: 'bwrap' | 'none';
  /** Why a command ran without the sandbox the runner asked for (backend auto without bubblewrap). */
  sandboxWarning?: string;
  durationMs: number;
}

/** `${artifactsdir}/taskotron/<n>-<action-name>.log`: one log per action, in formula order. */
export function actionLogFile(request: ActionRequest): string {
  const slug = request.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'action';
  return join(request.job.artifactsdir, 'taskotron', `${String(request.index).padStart(2, '0')}-${slug}.log`);
}

/** Job facts exposed to task commands as environment variables: data, never shell syntax. */
export function jobEnvironment(job: JobPaths): Record<string, string> {
  return {
    TASKOTRON_TASK: job.task,
    TASKOTRON_ITEM: job.item,
    TASKOTRON_ITEM_TYPE: job.itemType,
    TASKOTRON_ARCH: job.arch,
    TASKOTRON_UUID: job.uuid,
    TASKOTRON_TASKDIR: job.taskdir,
    TASKOTRON_WORKDIR: job.workdir,
    TASKOTRON_ARTIFACTSDIR: job.artifactsdir,
  };
}

/** Largest output an action may export: it travels through workflow history (2 MB hard limit there). */
export const MAX_EXPORT_BYTES = 256 * 1024;
