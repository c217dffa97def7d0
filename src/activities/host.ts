// Activities about the runner host itself. `claimHost` is polled on the arch's shared queue, so
// whichever host picks it up answers with its own queue: that is how a job gets pinned to one machine.
import { arch as osArch, cpus, freemem, hostname as osHostname, platform, totalmem } from 'node:os';
import { hostQueue } from '../common/queues.js';

export interface HostClaim {
  hostname: string;
  arch: string;
  taskQueue: string;
}

export interface HostDescription extends HostClaim {
  platform: string;
  machine: string;
  cpus: number;
  memoryMiB: number;
  freeMemoryMiB: number;
  node: string;
  pid: number;
}

export function createHostActivities(identity: { arch: string; hostname: string }) {
  const claim: HostClaim = { hostname: identity.hostname, arch: identity.arch, taskQueue: hostQueue(identity.arch, identity.hostname) };
  return {
    async claimHost(): Promise<HostClaim> {
      return claim;
    },
    async describeHost(): Promise<HostDescription> {
      return {
        ...claim,
        platform: platform(),
        machine: `${osArch()} (${osHostname()})`,
        cpus: cpus().length,
        memoryMiB: Math.round(totalmem() / 2 ** 20),
        freeMemoryMiB: Math.round(freemem() / 2 ** 20),
        node: process.version,
        pid: process.pid,
      };
    },
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
