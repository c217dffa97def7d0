// V8 heap settings of a `taskotron` process, applied before anything else is loaded (main.ts
// imports this module first): V8 reads them when it sizes a space, so they must be set before the
// first modules' allocations have grown the heap.
//
// `taskotron ingest` is a long-running process whose work is a trickle of small messages (tens per
// second on Fedora's bus), yet loading the Temporal SDK alone grows V8's young generation from
// 2 × 1 MB to its maximum of 2 × 16 MB, and V8's default old-generation growth leaves tens of MB of
// slack over what is live (~40 MB). For ingest:
//  - `--semi-space-growth-factor=1` keeps the young generation at 2 × 1 MB;
//  - `--optimize-for-size` makes V8 grow the old generation in smaller steps and shrink it sooner.
// Measured with the compiled CLI at 50 matched messages/s (docs/PERFORMANCE.md, "Ingest"): peak RSS
// 166 → 124 MB, idle 151 → 118 MB, with no measurable cost in the decision's CPU time per message
// (ingest's pace is set by Temporal's starts, ~150/s, not by its decision, ~100,000/s).
// TASKOTRON_INGEST_DEFAULT_HEAP=1 keeps V8's defaults (the benchmark's same-run comparison).
import { setFlagsFromString } from 'node:v8';

/** The subcommand: the CLI has no global options, so it is the first argument that is not one. */
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));

if (command === 'ingest' && !process.env.TASKOTRON_INGEST_DEFAULT_HEAP) {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
}
