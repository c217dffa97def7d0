// Everything a runner worker registers. Workflows import this module's *types* only.
import { createHostActivities, type HostActivities } from './host.js';

export type { HostClaim, HostDescription } from './host.js';

export interface RunnerIdentity {
  arch: string;
  hostname: string;
}

export function createRunnerActivities(identity: RunnerIdentity) {
  return { ...createHostActivities(identity) };
}

export type RunnerActivities = HostActivities;
