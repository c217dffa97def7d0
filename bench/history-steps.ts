// Reading a job's (or a bare chain's) steady per-action hand-offs back from its history, for
// bench/job.bench.ts and bench/handoff-ab.ts.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { median } from './figures.js';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** An event's kind: the name of its attributes field without `EventAttributes`. */
export const eventKind = (e: HistoryEvent): string => {
  for (const [key, value] of Object.entries(e)) if (key.endsWith('EventAttributes') && value) return key.replace(/EventAttributes$/, '');
  return 'unknown';
};

/** An event's time in ms, to the microsecond. */
export const eventMs = (e: HistoryEvent): number => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

/** The first action of a job: activity ids of actions start with their position (`1-shell`). */
export const isJobAction = (e: HistoryEvent): boolean => /^\d+-/.test(e.activityTaskScheduledEventAttributes?.activityId ?? '');

/**
 * The median time between consecutive events of each kind pair, from the event `first` picks on
 * (the steady part: the set-up before it is skipped), for the pairs seen at least `minCount` times;
 * markers, search-attribute upserts and property changes are left out. Also the events read.
 */
export async function stepHandOffs(
  client: Client,
  workflowId: string,
  first: (e: HistoryEvent) => boolean,
  minCount: number,
): Promise<{ handOffs: Array<[string, number, number]>; events: HistoryEvent[] }> {
  const events = ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
    (e) => !e.markerRecordedEventAttributes && !e.upsertWorkflowSearchAttributesEventAttributes && !e.workflowPropertiesModifiedEventAttributes,
  );
  const pairs = new Map<string, number[]>();
  for (let i = Math.max(1, events.findIndex(first) + 1); i < events.length; i++) {
    const key = `${eventKind(events[i - 1]!)} → ${eventKind(events[i]!)}`;
    pairs.set(key, [...(pairs.get(key) ?? []), eventMs(events[i]!) - eventMs(events[i - 1]!)]);
  }
  return { handOffs: [...pairs].filter(([, xs]) => xs.length >= minCount).map(([key, xs]) => [key, median(xs), xs.length]), events };
}
