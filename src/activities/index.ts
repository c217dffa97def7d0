// Everything a runner worker registers. Workflows import this module's *types* only.
import { createDirectiveActivities, type DirectiveActivities } from './directives/index.js';
import { createHostActivities, type HostActivities } from './host.js';
import { createReportingActivities, type ReportingActivities, type ReportingConfig } from './report.js';
import { defaultRunnerConfig, type RunnerConfig } from './runner-config.js';
import { SlotEndings } from './slot-endings.js';
import { createWorkspaceActivities, type WorkspaceActivities } from './workspace.js';

export type { HostClaim, HostDescription } from './host.js';
export type { Workspace, LoadedFormula } from './workspace.js';
export type { ActionOutput, ActionRequest, JobPaths } from './directives/index.js';
export type { RunnerConfig } from './runner-config.js';
export type { ReportInput, ReportOutput, ReportingConfig } from './report.js';

export interface RunnerIdentity {
  arch: string;
  hostname: string;
}

export function createRunnerActivities(identity: RunnerIdentity, config: RunnerConfig = defaultRunnerConfig(), reporting: ReportingConfig = {}) {
  // holdSlot and the job's last step on this host share it, so a slot hears of its release promptly.
  const endings = new SlotEndings();
  return {
    ...createHostActivities(identity, endings),
    ...createWorkspaceActivities(config, identity.hostname, endings),
    ...createDirectiveActivities(config),
    ...createReportingActivities(reporting),
  };
}

export type RunnerActivities = HostActivities & WorkspaceActivities & DirectiveActivities & ReportingActivities;
