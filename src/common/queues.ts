// Task queue names. Workflows of all kinds run on one shared queue. An arch's runner pool shares one
// activity queue; every runner host also polls a queue of its own so that all steps of one job run on
// the machine that holds its workdir and artifacts. The host queue name is deterministic, so a
// restarted worker re-attaches to the same queue.

export const WORKFLOW_QUEUE = 'taskotron';

export function runnerQueue(arch: string): string {
  return `runner-${arch}`;
}

export function hostQueue(arch: string, hostname: string): string {
  return `runner-${arch}@${hostname}`;
}
