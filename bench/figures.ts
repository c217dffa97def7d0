// What each benchmark hands to `npm run bench` besides its own printout: the figures its goals are
// judged by. A benchmark run alone just prints; under scripts/bench.ts (BENCH_FIGURES_FILE set) every
// figure is also appended as one JSON line, and the runner builds the table and bench/results.json.
import { appendFileSync } from 'node:fs';

export interface Figure {
  /** What was measured, e.g. "per-action overhead over a plain spawn". */
  figure: string;
  /** The goal in words, e.g. "< 20 ms". */
  goal: string;
  measured: number;
  unit: string;
  /** The same-run baseline the figure is compared with, if it has one. */
  baseline?: number;
  /** measured / baseline, or the ratio the goal is stated in. */
  ratio?: number;
  met: boolean;
}

export function reportFigures(bench: string, figures: Figure[]): void {
  const file = process.env.BENCH_FIGURES_FILE;
  if (!file) return;
  for (const figure of figures) appendFileSync(file, `${JSON.stringify({ bench, ...figure })}\n`);
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const percentile = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;
