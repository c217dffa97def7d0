// Whether dist/ is the compiled form of the current sources, and which of its workflow bundles are
// older than its compiled modules. Plain JavaScript on purpose: build-if-stale.mjs decides with it
// whether the compiler is needed, so it must not need the compiler or tsx itself. The test harness
// asks too, to run with the bundles `npm run build` made instead of making its own.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The first reason dist/ is out of date, or undefined when every output is newer than its source. */
export function distStaleReason(root) {
  const dist = join(root, 'dist');
  if (!existsSync(dist)) return 'dist/ is missing';
  let oldestOutput = Infinity;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const reason = walk(path);
        if (reason) return reason;
        continue;
      }
      if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
      const output = join(dist, relative(root, path)).replace(/\.ts$/, '.js');
      if (!existsSync(output)) return `${relative(root, output)} is missing`;
      const outputTime = statSync(output).mtimeMs;
      if (statSync(path).mtimeMs > outputTime) return `${relative(root, path)} changed`;
      oldestOutput = Math.min(oldestOutput, outputTime);
    }
    return undefined;
  };
  const reason = walk(join(root, 'src'));
  if (reason) return reason;
  for (const config of ['tsconfig.json', 'tsconfig.build.json']) {
    if (statSync(join(root, config)).mtimeMs > oldestOutput) return `${config} changed`;
  }
  return undefined;
}

/**
 * The workflow bundles in dist/src that are missing or older than a compiled module (the bundles
 * aside): the same rule as bundleIsFresh() in src/worker/bundle.ts, checked here without loading the
 * Temporal SDK (a second on a busy machine). Two bundles: every workflow, for runners and runtask;
 * the trigger workflows alone, for an ingest that runs them (--run-trigger-workflows).
 */
export function staleBundles(root) {
  const newestModule = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(newest, newestModule(path));
      return entry.name.endsWith('.js') && !entry.name.endsWith('-bundle.js') ? Math.max(newest, statSync(path).mtimeMs) : newest;
    }, 0);
  const newest = newestModule(join(root, 'dist', 'src'));
  return /** @type {const} */ ([['workflows', 'workflow-bundle.js'], ['triggers', 'trigger-bundle.js']]).filter(([, file]) => {
    const path = join(root, 'dist', 'src', file);
    return !existsSync(path) || statSync(path).mtimeMs < newest;
  });
}
