// Reading a job's (or a bare chain's) steady per-action hand-offs back from its history, for
// bench/job.bench.ts and bench/handoff-ab.ts.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { median, percentile } from './figures.js';

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

/** One kind of hand-off over a run's steady part, in ms. */
export interface HandOff {
  key: string;
  median: number;
  /** The tail the median hides: a hand-off that stalls one time in ten shows here and in the mean. */
  p90: number;
  mean: number;
  n: number;
}

/**
 * The time between consecutive events of each kind pair, from the first event `first` picks to the
 * completion of the last (the steady part: set-up and clean-up are skipped; `first` picks every
 * step's scheduling), for the pairs seen at least `minCount` times;
 * markers, search-attribute upserts and property changes are left out. Also the events read.
 */
export async function stepHandOffs(
  client: Client,
  workflowId: string,
  first: (e: HistoryEvent) => boolean,
  minCount: number,
): Promise<{ handOffs: HandOff[]; events: HistoryEvent[] }> {
  const events = ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
    (e) => !e.markerRecordedEventAttributes && !e.upsertWorkflowSearchAttributesEventAttributes && !e.workflowPropertiesModifiedEventAttributes,
  );
  // The steady part ends with the last step's completion: the tail (clean-up, the slot's end, whose
  // started event is only written when it completes) would skew the means.
  const steps = new Set(events.filter(first).map((e) => String(e.eventId)));
  const end = events.findLastIndex((e) => steps.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)));
  const pairs = new Map<string, number[]>();
  for (let i = Math.max(1, events.findIndex(first) + 1); i <= end; i++) {
    const key = `${eventKind(events[i - 1]!)} → ${eventKind(events[i]!)}`;
    pairs.set(key, [...(pairs.get(key) ?? []), eventMs(events[i]!) - eventMs(events[i - 1]!)]);
  }
  const handOffs = [...pairs]
    .filter(([, xs]) => xs.length >= minCount)
    .map(([key, xs]) => ({ key, median: median(xs), p90: percentile(xs, 90), mean: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length }));
  return { handOffs, events };
}
