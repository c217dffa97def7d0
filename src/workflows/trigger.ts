// One trigger workflow per matched fedmsg message: its ID is derived from the message's msg_id, so a
// redelivered, replayed or backfilled copy can never start it twice. It discovers package-owned
// tasks when a rule asks (an activity: cloning is I/O), then starts one job workflow per task × arch
// with an ID built from msg_id + task + arch, and finishes; the jobs live on on their own
// (ParentClosePolicy ABANDON) and carry the message's search attributes.
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DiscoverResult, IngestActivities } from '../activities/discover.js';
import type { TagDebounceActivities } from '../activities/tag-debounce.js';
import { JOB_WORKFLOW, type JobInput, type TaskSource } from '../common/job.js';
import { jobStartDetails, jobSummary } from '../common/job-metadata.js';
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
  /** The message's timestamp (Unix seconds). */
  timestamp?: number;
  messageType: string;
  item: string;
  itemType: string;
  /** The trigger data dict the rules saw. */
  data: Record<string, unknown>;
  jobs: TriggerJob[];
  discover: TriggerDiscover[];
  /** Task queue the job workflows run on. */
  jobQueue: string;
  /** Task queue of the ingest's activities (discover, tag forwarding); default: this workflow's queue. */
  activityQueue?: string;
  /** Pool for arch-independent jobs, e.g. runner-x86_64 (the original's `all` builder took any host). */
  noarchPool?: string;
  /**
   * KojiTagChanged: hand the message to its tag's debounce workflow, which starts the jobs once the
   * tag has been quiet this long (trigger.cfg `fuse_delay`).
   */
  debounce?: { tag: string; fuseDelaySeconds: number };
}

export interface StartedJob {
  workflowId: string;
  task: string;
  arch: string;
  /** False when a job with this ID already existed (a reset or re-run trigger). */
  started: boolean;
}

export interface TriggerResult {
  /** The debounce workflow the message went to, instead of starting jobs itself. */
  debouncedBy?: string;
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

/** `koji-tag-f40-updates-testing-pending`: the one debounce workflow of a tag. */
export function tagDebounceWorkflowId(tag: string): string {
  return `koji-tag-${tag}`;
}

export const TAG_DEBOUNCE_WORKFLOW = 'debounceKojiTag';
export const tagChangedSignal = defineSignal<[TriggerInput]>('tagChanged');

/** The ingest host's activities: it has the git cache and the Temporal client they need. */
function ingestActivities(queue: string | undefined) {
  // Proxies resolve names on access: they cannot be merged with a spread.
  const taskQueue = queue ? { taskQueue: queue } : {};
  const { discoverTasks } = proxyActivities<IngestActivities>({
    ...taskQueue,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
  });
  const { forwardTagChange } = proxyActivities<TagDebounceActivities>({
    ...taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
  return { discoverTasks, forwardTagChange };
}

export async function triggerJobs(input: TriggerInput): Promise<TriggerResult> {
  if (input.debounce) {
    // This workflow's ID already made the message unique; the tag's workflow coalesces the burst.
    await ingestActivities(input.activityQueue).forwardTagChange(input);
    return { debouncedBy: tagDebounceWorkflowId(input.debounce.tag), jobs: [], discovered: [] };
  }
  return fanOut(input);
}

/** What a tag's debounce workflow returns: the jobs of its fire and the changes coalesced into it. */
export type TagDebounceResult = TriggerResult & { tag: string; coalesced: string[] };

/**
 * What one run of a tag's debounce workflow hands the next when it continues-as-new: the changes not
 * fired yet, so none is lost at the hand-over, and just enough memory to stay idempotent.
 */
export interface TagDebounceCarry {
  /** The newest change not fired yet; the next run's window starts with it. */
  latest?: TriggerInput;
  /** msg_ids of the changes coalesced into `latest` (the newest 100). */
  coalesced: string[];
  /** msg_ids seen lately (the newest 100): a retried forward of one of them still counts once. */
  seen: string[];
  /** Workflow time (ms) of the newest change: the fuse keeps running across the hand-over. */
  lastChangeAt?: number;
  /** Hand over mid-window once a run's history is this long (default 2000, or sooner when Temporal suggests it). */
  maxHistoryEvents?: number;
}

/** Running debounce workflows started before the hand-over keep their one-run loop (history recorded). */
export const TAG_DEBOUNCE_HANDOVER_PATCH = 'tag-debounce-handover';
const CARRIED_IDS = 100;
const MAX_HISTORY_EVENTS = 2000;

/**
 * One tag's debounce window: every KojiTagChanged message for the tag arrives as a signal; when no
 * new one came for `fuseDelaySeconds` (a Temporal timer, so it survives restarts of everything),
 * the newest message's jobs start. A run fires at most once: changes that arrived meanwhile go to
 * the next run (continue-as-new) with the window they opened, so a busy tag's history stays one
 * window long instead of growing until Temporal terminates it. A window that never goes quiet hands
 * over too, once its history is long. With nothing waiting after its fire, the run completes; the
 * next change starts a new one (signal-with-start).
 */
export async function debounceKojiTag(tag: string, carried?: TagDebounceCarry): Promise<TagDebounceResult> {
  if (!patched(TAG_DEBOUNCE_HANDOVER_PATCH)) return debounceInOneRun(tag);
  const window = new TagWindow(carried);
  setHandler(tagChangedSignal, (input) => window.add(input));
  await condition(() => window.latest !== undefined);
  for (let seen = window.changes; ; seen = window.changes) {
    const quietFor = window.quietRemainingMs();
    // Quiet means: a whole fuse delay since the newest change.
    if (quietFor <= 0 || !(await condition(() => window.changes !== seen, quietFor))) break;
    if (historyTooLong(carried?.maxHistoryEvents)) return handOver(tag, window, carried?.maxHistoryEvents);
  }
  const { input, coalesced } = window.take();
  const fired = await fanOut({ ...input, debounce: undefined });
  // Changes that came during the fire open the next window, in the next run.
  if (window.latest !== undefined) return handOver(tag, window, carried?.maxHistoryEvents);
  await condition(allHandlersFinished);
  return { ...fired, tag, coalesced };
}

function historyTooLong(limit = MAX_HISTORY_EVENTS): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= limit;
}

/** Continue-as-new with what is not fired yet. The carry is taken after every handler has run, as the SDK documents. */
async function handOver(tag: string, window: TagWindow, maxHistoryEvents: number | undefined): Promise<never> {
  // Signal handlers are synchronous today; waiting keeps the hand-over safe if one ever awaits.
  await condition(allHandlersFinished);
  return continueAsNew<typeof debounceKojiTag>(tag, window.carry(maxHistoryEvents));
}

/** The changes of one tag not fired yet: pure bookkeeping, so the workflow above reads as the story. */
class TagWindow {
  latest?: TriggerInput;
  /** Counts accepted changes: a change resets the fuse even within the same workflow task. */
  changes = 0;
  private coalesced: string[];
  private readonly seen: Set<string>;
  private lastChangeAt: number;

  constructor(carried?: TagDebounceCarry) {
    this.latest = carried?.latest;
    this.coalesced = [...(carried?.coalesced ?? [])];
    this.seen = new Set(carried?.seen ?? []);
    this.lastChangeAt = carried?.lastChangeAt ?? Date.now();
  }

  add(input: TriggerInput): void {
    // A retried forward resends the same message: count it once.
    if (this.seen.has(input.msgId)) return;
    this.seen.add(input.msgId);
    this.coalesced.push(input.msgId);
    // Forwards may overtake each other: the newest message by its own clock wins.
    if (!this.latest || (input.timestamp ?? 0) >= (this.latest.timestamp ?? 0)) this.latest = input;
    // Workflow time: the same on replay.
    this.lastChangeAt = Date.now();
    this.changes += 1;
  }

  quietRemainingMs(): number {
    return this.lastChangeAt + (this.latest!.debounce?.fuseDelaySeconds ?? 900) * 1000 - Date.now();
  }

  /** The change to fire and those coalesced into it; what arrives from now on opens the next window. */
  take(): { input: TriggerInput; coalesced: string[] } {
    const taken = { input: this.latest!, coalesced: this.coalesced };
    this.latest = undefined;
    this.coalesced = [];
    return taken;
  }

  carry(maxHistoryEvents: number | undefined): TagDebounceCarry {
    return {
      ...(this.latest ? { latest: this.latest, lastChangeAt: this.lastChangeAt } : {}),
      coalesced: this.coalesced.slice(-CARRIED_IDS),
      seen: [...this.seen].slice(-CARRIED_IDS),
      ...(maxHistoryEvents !== undefined ? { maxHistoryEvents } : {}),
    };
  }
}

/**
 * Before the hand-over (recorded in test/histories/tag-debounce-before-handover.json): one run
 * fired again and again while changes kept coming. Kept unchanged for the workflows still running it.
 */
async function debounceInOneRun(tag: string): Promise<TagDebounceResult> {
  let latest: TriggerInput | undefined;
  let pending = false;
  const seen = new Set<string>();
  const coalesced: string[] = [];
  setHandler(tagChangedSignal, (input) => {
    if (seen.has(input.msgId)) return;
    seen.add(input.msgId);
    coalesced.push(input.msgId);
    if (!latest || (input.timestamp ?? 0) >= (latest.timestamp ?? 0)) latest = input;
    pending = true;
  });
  const result: TriggerResult = { jobs: [], discovered: [] };
  for (;;) {
    await condition(() => pending);
    do pending = false;
    while (await condition(() => pending, `${latest!.debounce?.fuseDelaySeconds ?? 900} seconds`));
    const fired = await fanOut({ ...latest!, debounce: undefined });
    result.jobs.push(...fired.jobs);
    result.discovered.push(...fired.discovered);
    if (!pending) break;
  }
  return { ...result, tag, coalesced };
}

async function fanOut(input: TriggerInput): Promise<TriggerResult> {
  const jobs: TriggerJob[] = [...input.jobs];
  const discovered: TriggerResult['discovered'] = [];
  for (const request of input.discover) {
    try {
      const found = await ingestActivities(input.activityQueue).discoverTasks({
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
      // User metadata for the job's page in the UI; not part of the command sequence.
      staticSummary: jobSummary(jobInput),
      staticDetails: jobStartDetails(jobInput, { kind: 'message', messageType: input.messageType, msgId: input.msgId }),
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
