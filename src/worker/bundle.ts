// How the project's workflow bundles are made and where the prebuilt ones live, so a worker's
// per-workflow cost and its start-up are decided in one place.
//  - `workflows`: every workflow type (src/workflows/index), for runner workers and `runtask`;
//  - `triggers`: the trigger workflows alone (src/workflows/trigger), for an ingest that runs them
//    itself (`--run-trigger-workflows`): a smaller isolate.
// `npm run build` writes both into dist/src (scripts/build-if-stale.mjs), so a process started from
// dist/ does not run webpack: seconds of CPU at every start, and webpack's modules stay in its memory.
import { existsSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// Only the type at load: the harness and `npm start` ask this module where the bundles are and
// whether they are fresh, and the SDK's worker package costs ~0.5 s of CPU to load; writeBundle()
// loads it when it bundles.
import type { BundleOptions } from '@temporalio/worker';
import { logger } from '../logging/log.js';

/** For bundleWorkflowCode: webpack's progress chatter off, its warnings and errors kept. */
export const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    logger('bundler').warn(message);
  },
  error(message: string) {
    logger('bundler').error(message);
  },
};

const BUNDLES = {
  workflows: { entry: 'workflows/index', file: 'workflow-bundle.js' },
  triggers: { entry: 'workflows/trigger', file: 'trigger-bundle.js' },
} as const;
export type BundleKind = keyof typeof BUNDLES;

/**
 * The options of every bundle the project makes (the prebuilt ones, the test harness's, one made at
 * start), with the workflows at `workflowsPath` preloaded.
 *
 * A worker keeps one V8 context for all its workflows (the SDK's `reuseV8Context`, on by default) but
 * evaluates, for every new workflow, each module the workflow code imports that the context has not
 * loaded once for all: ours, and `@temporalio/workflow`'s index with everything it re-exports.
 * Preloaded, they are evaluated once when the worker starts and shared, frozen, by every workflow.
 * Measured on the runner's bundle (bench/workflow-create.bench.ts): creating a workflow 1.04 → 0.58 ms,
 * and a cached workflow's heap 59.2 → 11.8 KiB, which is what a runner's cache of open jobs holds.
 *
 * What this asks of workflow modules: no state at module level (each workflow's state lives in its
 * own function calls), and no calls into the workflow API at import (there is no workflow yet).
 * Ours keep both (constants, signal and query definitions, functions), and lint holds them to it
 * (eslint.config.js). Shared exports are frozen, too, so a write to one fails loudly.
 */
export function workflowBundleOptions(workflowsPath: string): BundleOptions {
  return { workflowsPath, logger: quietBundlerLogger, preloadModules: [workflowsPath] };
}

/** The bundle's entry point beside this module: .js when compiled, .ts when run through tsx. */
export function bundleEntry(kind: BundleKind): string {
  const js = fileURLToPath(new URL(`../${BUNDLES[kind].entry}.js`, import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL(`../${BUNDLES[kind].entry}.ts`, import.meta.url));
}

/** Where `npm run build` writes the bundle: dist/src/<kind>-bundle.js. */
export function prebuiltBundlePath(kind: BundleKind): string {
  return fileURLToPath(new URL(`../${BUNDLES[kind].file}`, import.meta.url));
}

/** Newest modification time of the compiled modules under `dir`, the bundles (`*-bundle.js`) aside. */
function newestCompiledModule(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestCompiledModule(path));
    else if (entry.name.endsWith('.js') && !entry.name.endsWith('-bundle.js')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * True when the bundle at `bundle` exists and no compiled module beside it (all of its directory, as
 * dist/src is for dist/src/workflow-bundle.js) is newer: the rule scripts/build-if-stale.mjs applies too.
 */
export function bundleIsFresh(bundle: string): boolean {
  return existsSync(bundle) && statSync(bundle).mtimeMs >= newestCompiledModule(dirname(bundle));
}

/** The prebuilt bundle when running compiled code and no compiled module is newer than it. */
export function freshPrebuiltBundle(kind: BundleKind): string | undefined {
  if (!bundleEntry(kind).endsWith('.js')) return undefined;
  const path = prebuiltBundlePath(kind);
  return bundleIsFresh(path) ? path : undefined;
}

/** Bundles `kind`'s workflows and writes the bundle to `path` (by default where freshPrebuiltBundle() finds it). */
export function writeBundle(kind: BundleKind, path = prebuiltBundlePath(kind)): Promise<string> {
  return writeBundleOf(bundleEntry(kind), path);
}

/** Bundles the workflows at `workflowsPath` (ours or a test's stand-ins) and writes the bundle to `path`, whole or not at all. */
export async function writeBundleOf(workflowsPath: string, path: string): Promise<string> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode(workflowBundleOptions(workflowsPath));
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, code);
  renameSync(partial, path);
  return path;
}
