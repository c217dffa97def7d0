// ResultYAML, the format a task's check code writes its results in (reference §1.7), as plain
// JSON-serialisable data. Pure: only type imports and the shared outcome order.
import { OUTCOMES, type Outcome } from '../common/job.js';

/** Keys that are never keyvals (as the original's `check.RESERVED_KEYS`). */
export const RESERVED_KEYS = ['item', 'type', 'outcome', 'note', 'results', 'checkname', 'artifact', '_internal'] as const;

/** A keyval as ResultsDB stores it: one string, or several under the same key. */
export type KeyvalValue = string | string[];

/** One entry of the `results` list. */
export interface ResultEntry {
  item: string;
  type: string;
  outcome: Outcome;
  note?: string;
  /** Check name without the namespace; the formula `name` is used when absent (reference §1.8). */
  checkname?: string;
  /** Path of this result's log/file: absolute inside artifactsdir, or relative to it. */
  artifact?: string;
  /** Every other key: reported as ResultsDB `data`. Scalars keep their YAML source text. */
  keyvals: Record<string, KeyvalValue>;
  /** Runner-to-directive scratch space; carried along, never reported. */
  internal?: Record<string, unknown>;
}

export interface ResultYaml {
  results: ResultEntry[];
}

/**
 * Outcome counts in priority order, e.g. `3 PASSED, 1 INFO, 2 FAILED` (the original's
 * `create_multi_item_summary`); '' for no results.
 */
export function summary(results: Iterable<{ outcome: Outcome } | Outcome>): string {
  const counts = new Map<Outcome, number>();
  for (const r of results) {
    const outcome = typeof r === 'string' ? r : r.outcome;
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  return OUTCOMES.filter((o) => counts.has(o))
    .map((o) => `${counts.get(o)!} ${o}`)
    .join(', ');
}

export function isOutcome(value: string): value is Outcome {
  return (OUTCOMES as readonly string[]).includes(value);
}
