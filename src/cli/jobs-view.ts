// The pure half of `taskotron jobs`: the visibility query a filter means, a listed job as a row or a
// JSON object, and a job's steps read from its history. No I/O here, so the tests can state exactly
// what an operator sees.
import type { WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { JOB_WORKFLOW, OUTCOMES, type JobResult } from '../common/job.js';
import { Arch, Item, ItemType, JobOutcome, RunnerHost, TaskName } from '../common/search-attributes.js';
import { parseDuration } from '../formula/duration.js';

export interface JobFilters {
  task?: string;
  item?: string;
  type?: string;
  arch?: string;
  outcome?: string;
  /** A duration back from `now` (`2h`, `3d`) or an ISO 8601 date. */
  since?: string;
}

/** One row of `jobs list`; with `--json` exactly these keys, in this order. */
export interface JobRow {
  workflowId: string;
  task: string | null;
  item: string | null;
  itemType: string | null;
  arch: string | null;
  outcome: string | null;
  host: string | null;
  status: string;
  startTime: string;
  closeTime: string | null;
}

/** `Nd` on top of the formula's `1h30m` durations: operators look back days. */
export function sinceDate(since: string, now: Date): Date {
  const days = /^(\d+)d$/.exec(since);
  const seconds = days ? Number(days[1]) * 86_400 : parseDuration(since);
  if (seconds !== undefined) return new Date(now.getTime() - seconds * 1000);
  const date = new Date(since);
  if (/^\d{4}-\d{2}-\d{2}/.test(since) && !Number.isNaN(date.getTime())) return date;
  throw new Error(`--since '${since}': expected a duration back from now (30m, 2h, 3d) or a date (2026-11-30, 2026-11-30T12:00:00Z)`);
}

/** A visibility query string literal: quotes and backslashes escaped, never query syntax. */
export function literal(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The visibility query for `jobs list` filters (the same text works in the UI's search box). */
export function jobListQuery(filters: JobFilters, now = new Date()): string {
  const outcome = filters.outcome?.toUpperCase();
  if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) {
    throw new Error(`--outcome '${filters.outcome}': expected one of ${OUTCOMES.join(', ')}`);
  }
  const terms = [`WorkflowType = ${literal(JOB_WORKFLOW)}`];
  if (filters.task) terms.push(`${TaskName.name} = ${literal(filters.task)}`);
  if (filters.item) terms.push(`${Item.name} = ${literal(filters.item)}`);
  if (filters.type) terms.push(`${ItemType.name} = ${literal(filters.type)}`);
  if (filters.arch) terms.push(`${Arch.name} = ${literal(filters.arch)}`);
  if (outcome) terms.push(`${JobOutcome.name} = ${literal(outcome)}`);
  if (filters.since) terms.push(`StartTime >= ${literal(sinceDate(filters.since, now).toISOString())}`);
  return terms.join(' AND ');
}

export function jobRow(execution: Pick<WorkflowExecutionInfo, 'workflowId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes'>): JobRow {
  const attribute = (key: typeof TaskName) => (execution.typedSearchAttributes.get(key) as string | undefined) ?? null;
  return {
    workflowId: execution.workflowId,
    task: attribute(TaskName),
    item: attribute(Item),
    itemType: attribute(ItemType),
    arch: attribute(Arch),
    outcome: attribute(JobOutcome),
    host: attribute(RunnerHost),
    status: execution.status.name,
    startTime: execution.startTime.toISOString(),
    closeTime: execution.closeTime?.toISOString() ?? null,
  };
}

/** `1.2s`, `3m05s`, `2h01m`: short enough for a table column. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** What the OUTCOME column says: the outcome once there is one, else the workflow's state. */
export function rowOutcome(row: JobRow): string {
  if (row.outcome) return row.outcome;
  return row.status === 'RUNNING' ? 'running' : row.status.toLowerCase();
}

export function formatJobTable(rows: JobRow[], now = new Date()): string {
  const header = ['TASK', 'ITEM', 'ARCH', 'OUTCOME', 'HOST', 'DURATION', 'WORKFLOW ID'];
  const body = rows.map((row) => {
    const end = row.closeTime ? Date.parse(row.closeTime) : now.getTime();
    const duration = formatDuration(Math.max(0, end - Date.parse(row.startTime)));
    return [row.task ?? '-', row.item ?? '-', row.arch ?? '-', rowOutcome(row), row.host ?? '-', row.closeTime ? duration : `${duration}…`, row.workflowId];
  });
  return table([header, ...body]);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** A history event as the client's `fetchHistory()` returns it. */
type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** One activity of the job as its history tells it. */
export interface Step {
  /** Activity id: `1-shell` for action 1, else the step's own name. */
  id: string;
  activity: string;
  status: 'scheduled' | 'running' | 'completed' | 'failed' | 'timed out' | 'cancelled';
  attempt: number;
  /** From the first start to the close (or to `now` while it runs). */
  durationMs?: number;
  /** Waiting in the queue before the first attempt started. */
  waitedMs?: number;
  failure?: string;
}

function eventMs(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return 0;
  const seconds = typeof time.seconds === 'number' ? time.seconds : Number(time.seconds?.toString() ?? 0);
  return seconds * 1000 + (time.nanos ?? 0) / 1e6;
}

function eventId(id: HistoryEvent['eventId'] | number | null | undefined): number {
  return typeof id === 'number' ? id : Number(id?.toString() ?? 0);
}

/** Every activity the job scheduled, in order, with its status and timing. */
export function stepsFromHistory(events: HistoryEvent[], now = Date.now()): Step[] {
  const steps = new Map<number, Step & { scheduledAt: number; startedAt?: number }>();
  const close = (scheduledEventId: unknown, event: HistoryEvent, status: Step['status'], failure?: string) => {
    const step = steps.get(eventId(scheduledEventId as HistoryEvent['eventId']));
    if (!step) return;
    step.status = status;
    step.durationMs = eventMs(event) - (step.startedAt ?? step.scheduledAt);
    if (failure) step.failure = failure;
  };
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      steps.set(eventId(event.eventId), {
        id: scheduled.activityId ?? '',
        activity: scheduled.activityType?.name ?? '',
        status: 'scheduled',
        attempt: 1,
        scheduledAt: eventMs(event),
      });
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const step = steps.get(eventId(started.scheduledEventId));
      if (step) {
        step.status = 'running';
        step.attempt = started.attempt ?? 1;
        step.startedAt = eventMs(event);
        step.waitedMs = step.startedAt - step.scheduledAt;
      }
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) close(completed.scheduledEventId, event, 'completed');
    const failed = event.activityTaskFailedEventAttributes;
    if (failed) close(failed.scheduledEventId, event, 'failed', failed.failure?.cause?.message ?? failed.failure?.message ?? undefined);
    const timedOut = event.activityTaskTimedOutEventAttributes;
    if (timedOut) close(timedOut.scheduledEventId, event, 'timed out', timedOut.failure?.message ?? undefined);
    const cancelled = event.activityTaskCanceledEventAttributes;
    if (cancelled) close(cancelled.scheduledEventId, event, 'cancelled');
  }
  return [...steps.values()].map(({ scheduledAt, startedAt, ...step }) =>
    step.status === 'running' ? { ...step, durationMs: now - (startedAt ?? scheduledAt) } : step,
  );
}

/** A pending activity as `describe()` reports it (the raw DescribeWorkflowExecution answer). */
export interface PendingStep {
  activityId?: string | null;
  /** PendingActivityState: 1 scheduled, 2 started, 3 cancel requested. */
  state?: number | null;
  attempt?: number | null;
  lastStartedTime?: HistoryEvent['eventTime'];
}

/**
 * A running step's ActivityTaskStarted event reaches history only when the step ends (retryable
 * activities), so a live job's running step is known from its pending activities.
 */
export function withPending(steps: Step[], pending: PendingStep[], now = Date.now()): Step[] {
  return steps.map((step) => {
    const live = pending.find((p) => p.activityId === step.id);
    if (!live || step.status !== 'scheduled' || live.state !== 2) return step;
    const startedAt = eventMs({ eventTime: live.lastStartedTime ?? null });
    return { ...step, status: 'running', attempt: live.attempt ?? step.attempt, ...(startedAt > 0 ? { durationMs: now - startedAt } : {}) };
  });
}

/** A step's label: the formula action's name when the step is one. */
export function stepLabel(step: Step, result?: Pick<JobResult, 'actions'>): string {
  const index = /^(\d+)-/.exec(step.id)?.[1];
  const action = index ? result?.actions.find((a) => a.index === Number(index)) : undefined;
  return action ? `${step.id} ${action.name}` : step.activity;
}

/** The first completed workflow task: where the Web UI's Reset and `jobs rerun` start the job over. */
export function firstWorkflowTaskCompleted(events: HistoryEvent[]): HistoryEvent | undefined {
  return events.find((e) => e.workflowTaskCompletedEventAttributes);
}
