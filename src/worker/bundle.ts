// How every workflow bundle of the project is made (the runner's, ingest's trigger bundle, the test
// harness's), so a worker's per-workflow cost is decided in one place.
import type { BundleOptions } from '@temporalio/worker';
import { quietBundlerLogger } from './logging.js';

/**
 * The bundle of the workflows at `workflowsPath`, with those workflows preloaded.
 *
 * A worker keeps one V8 context for all its workflows (the SDK's `reuseV8Context`, on by default) but
 * evaluates, for every new workflow, each module the workflow code imports that the context has not
 * loaded once for all: ours, and `@temporalio/workflow`'s index with everything it re-exports.
 * Preloaded, they are evaluated once when the worker starts and shared, frozen, by every workflow.
 * Measured on the runner's bundle (bench/workflow-create.bench.ts): creating a workflow 1.1 → 0.56 ms,
 * and a cached workflow's heap 59.6 → 11.7 KiB, which is what a runner's cache of open jobs holds.
 *
 * What this asks of workflow modules: no state at module level (each workflow's state lives in its
 * own function calls), and no calls into the workflow API at import (there is no workflow yet).
 * Ours keep both (constants, signal and query definitions, functions). Shared exports are frozen, so
 * a module that broke the first rule would fail loudly at its first write, not leak between workflows.
 */
export function workflowBundleOptions(workflowsPath: string): BundleOptions {
  return { workflowsPath, logger: quietBundlerLogger, preloadModules: [workflowsPath] };
}
