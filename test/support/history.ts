// Reading recorded workflow histories (JSON as `temporal workflow show --output json` or
// historyToJSON writes them) without caring which of the two enum spellings a file uses.
import { readFileSync } from 'node:fs';

interface JsonEvent {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
}

export interface JsonHistory {
  events: JsonEvent[];
}

export function readHistory(path: string): JsonHistory {
  return JSON.parse(readFileSync(path, 'utf8')) as JsonHistory;
}

function isType(event: JsonEvent, name: string): boolean {
  return event.eventType === `EVENT_TYPE_${name}` || event.eventType === name.replace(/(^|_)([A-Z])([A-Z]*)/g, (_m, _s, a: string, b: string) => a + b.toLowerCase());
}

/** The activity types a history scheduled, in order: what replay alone would not catch if renamed. */
export function scheduledActivityTypes(history: JsonHistory): string[] {
  return history.events
    .filter((event) => isType(event, 'ACTIVITY_TASK_SCHEDULED'))
    .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
}

export function workflowType(history: JsonHistory): string | undefined {
  return history.events.find((event) => isType(event, 'WORKFLOW_EXECUTION_STARTED'))?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}

interface SlotEvent {
  eventTime?: string;
  eventId?: string;
  workflowExecutionSignaledEventAttributes?: { signalName?: string; input?: { payloads?: { data?: string }[] } };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; activityId?: string };
  activityTaskCancelRequestedEventAttributes?: { scheduledEventId?: string };
  activityTaskTimedOutEventAttributes?: { scheduledEventId?: string };
  activityTaskFailedEventAttributes?: { scheduledEventId?: string };
  activityTaskCanceledEventAttributes?: { scheduledEventId?: string };
  activityTaskCompletedEventAttributes?: { scheduledEventId?: string };
}

/**
 * When a job held which host, read from its history alone: from the host's `hostClaimed` signal to
 * the moment the job let go of that slot (cancel requested, or the host ended it after the job's
 * last step there) or lost it (timed out, failed). The
 * host held it at least that long; two holds on one host overlapping here means two jobs really
 * ran there at once.
 */
export function slotHolds(history: { events: unknown[] }): { host: string; slotId: string; from: number; to: number }[] {
  const events = history.events as SlotEvent[];
  const slotIdOf = new Map<string, string>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'holdSlot') slotIdOf.set(String(e.eventId), scheduled.activityId ?? '');
  }
  const ends = new Map<string, number>();
  for (const e of events) {
    const scheduledId =
      e.activityTaskCancelRequestedEventAttributes?.scheduledEventId ??
      e.activityTaskTimedOutEventAttributes?.scheduledEventId ??
      e.activityTaskFailedEventAttributes?.scheduledEventId ??
      e.activityTaskCanceledEventAttributes?.scheduledEventId ??
      e.activityTaskCompletedEventAttributes?.scheduledEventId;
    const slotId = scheduledId !== undefined ? slotIdOf.get(String(scheduledId)) : undefined;
    if (slotId !== undefined && !ends.has(slotId)) ends.set(slotId, Date.parse(e.eventTime!));
  }
  const lastTime = Date.parse((events.at(-1) as SlotEvent).eventTime!);
  return events
    .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'hostClaimed')
    .map((e) => {
      const claim = JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!, 'base64').toString()) as { slotId: string; hostname: string };
      return { host: claim.hostname, slotId: claim.slotId, from: Date.parse(e.eventTime!), to: ends.get(claim.slotId) ?? lastTime };
    });
}

/** The most jobs any host held at once, per host. */
export function peakHoldsPerHost(holds: { host: string; from: number; to: number }[]): Map<string, number> {
  const peaks = new Map<string, number>();
  for (const hold of holds) {
    const atOnce = holds.filter((other) => other.host === hold.host && other.from <= hold.from && hold.from < other.to).length;
    peaks.set(hold.host, Math.max(peaks.get(hold.host) ?? 0, atOnce));
  }
  return peaks;
}
