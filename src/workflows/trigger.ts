// One trigger workflow per matched fedmsg message: its ID is derived from the message's msg_id, so a
// redelivered, replayed or backfilled copy can never start it twice. It discovers package-owned
// tasks when a rule asks (an activity: cloning is I/O), then starts one job workflow per task × arch
// with an ID built from msg_id + task + arch, and finishes; the jobs live on on their own
// (ParentClosePolicy ABANDON) and carry the message's search attributes.
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  proxyActivities,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DiscoverResult, IngestActivities } from '../activities/discover.js';
import { JOB_WORKFLOW, type JobInput, type TaskSource } from '../common/job.js';
import { Arch, Item, ItemType, MessageType, MsgId, TaskName } from '../common/search-attributes.js';

export const TRIGGER_WORKFLOW = 'triggerJobs';

/** A job the rules named directly: task × arch, source already resolved by ingest. */
export interface TriggerJob {
  task: string;
  arch: string;
  source: TaskSource;
  formula?: string;
  /** The runner pool to claim a host from (set for `noarch` jobs). */
  pool?: string;
}

export interface TriggerDiscover {
  repo: string;
  branch?: string;
  fallbackBranch?: string;
  recursive: boolean;
  arches: string[];
}

export interface TriggerInput {
  msgId: string;
  topic: string;
  messageType: string;
  item: string;
  itemType: string;
  /** The trigger data dict the rules saw. */
  data: Record<string, unknown>;
  jobs: TriggerJob[];
  discover: TriggerDiscover[];
  /** Task queue the job workflows run on. */
  jobQueue: string;
  /** Pool for arch-independent jobs, e.g. runner-x86_64 (the original's `all` builder took any host). */
  noarchPool?: string;
}

export interface StartedJob {
  workflowId: string;
  task: string;
  arch: string;
  /** False when a job with this ID already existed (a reset or re-run trigger). */
  started: boolean;
}

export interface TriggerResult {
  jobs: StartedJob[];
  discovered: Array<Pick<DiscoverResult, 'repo' | 'branch' | 'commit' | 'formulas' | 'note'> & { error?: string }>;
}

/** `msg-2017-58a1…`: the trigger workflow of one message. */
export function triggerWorkflowId(msgId: string): string {
  return `msg-${msgId}`;
}

/** `msg-2017-58a1…/rpmlint/x86_64`: readable in the UI, and the same every time for the same job. */
export function jobWorkflowId(msgId: string, task: string, arch: string): string {
  return `${triggerWorkflowId(msgId)}/${task}/${arch}`;
}

/** A discovered formula as a task name: `ansible` for the root, `ansible/tests/smoke` below it. */
export function discoveredTaskName(repo: string, formula: string): string {
  const name = (repo.replace(/\/+$/, '').split('/').pop() ?? repo).replace(/\.git$/, '');
  const dir = formula.split('/').slice(0, -1).join('/');
  return dir ? `${name}/${dir}` : name;
}

const { discoverTasks } = proxyActivities<IngestActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
});

export async function triggerJobs(input: TriggerInput): Promise<TriggerResult> {
  const jobs: TriggerJob[] = [...input.jobs];
  const discovered: TriggerResult['discovered'] = [];
  for (const request of input.discover) {
    try {
      const found = await discoverTasks({
        repo: request.repo,
        ...(request.branch ? { branch: request.branch } : {}),
        ...(request.fallbackBranch ? { fallbackBranch: request.fallbackBranch } : {}),
        recursive: request.recursive,
      });
      discovered.push({ repo: found.repo, branch: found.branch, commit: found.commit, formulas: found.formulas, note: found.note });
      for (const formula of found.formulas) {
        for (const arch of request.arches) {
          jobs.push({ task: discoveredTaskName(request.repo, formula), arch, source: { kind: 'git', repo: request.repo, ref: found.commit! }, formula });
        }
      }
    } catch (error) {
      // The rules' plain tasks still run when a package's own tests cannot be fetched.
      discovered.push({ repo: request.repo, formulas: [], error: (error as Error).message });
    }
  }

  const seen = new Set<string>();
  const unique = jobs.filter((job) => {
    const id = jobWorkflowId(input.msgId, job.task, job.arch);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const started = await Promise.all(unique.map((job) => startJob(input, job)));
  return { jobs: started, discovered };
}

async function startJob(input: TriggerInput, job: TriggerJob): Promise<StartedJob> {
  const workflowId = jobWorkflowId(input.msgId, job.task, job.arch);
  const pool = job.pool ?? (job.arch === 'noarch' ? input.noarchPool : undefined);
  const jobInput: JobInput = {
    task: job.task,
    source: job.source,
    ...(job.formula ? { formula: job.formula } : {}),
    item: input.item,
    itemType: input.itemType,
    arch: job.arch,
    // Seeded from history: the same on every replay of this trigger.
    uuid: uuid4(),
    trigger: { messageType: input.messageType, msgId: input.msgId, data: input.data },
    ...(pool ? { pool } : {}),
  };
  try {
    await startChild(JOB_WORKFLOW, {
      workflowId,
      taskQueue: input.jobQueue,
      args: [jobInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: TaskName, value: job.task },
        { key: Item, value: input.item },
        { key: ItemType, value: input.itemType },
        { key: Arch, value: job.arch },
        { key: MessageType, value: input.messageType },
        { key: MsgId, value: input.msgId },
      ],
    });
    return { workflowId, task: job.task, arch: job.arch, started: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, task: job.task, arch: job.arch, started: false };
    throw error;
  }
}
