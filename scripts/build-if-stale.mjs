// `npm start` runs the compiled CLI from dist/ (npm ci's `prepare` builds it). Compiling on every
// start cost 10–15 s of a warm start; this compiles only when a source is newer than its output (an
// edited checkout), so a warm start goes straight to the stack. It then writes the workflow bundles
// (src/worker/bundle.ts) beside the compiled code when one is older than any compiled module, so
// neither a runner nor an ingest running trigger workflows runs webpack at every start. Plain
// JavaScript on purpose: it must not need the compiler or tsx to decide whether the compiler is
// needed. `--compile-only` (the test harness, which bundles the workflow code itself) stops after the
// compile.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

/** The first reason dist/ is out of date, or undefined when every output is newer than its source. */
function staleReason() {
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

const reason = existsSync(dist) ? staleReason() : 'dist/ is missing';
if (reason) {
  process.stderr.write(`taskotron: compiling TypeScript (${reason})…\n`);
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
if (process.argv.includes('--compile-only')) process.exit(0);
// The same freshness rule as bundleIsFresh() in src/worker/bundle.ts, checked here without loading
// the Temporal SDK (a second on a busy machine): a bundle is stale when a compiled module (the
// bundles aside) is newer. Two bundles: every workflow, for runners and runtask; the trigger
// workflows alone, for an ingest that runs them (--run-trigger-workflows).
const newestModule = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestModule(path));
    return entry.name.endsWith('.js') && !entry.name.endsWith('-bundle.js') ? Math.max(newest, statSync(path).mtimeMs) : newest;
  }, 0);
const newest = newestModule(join(dist, 'src'));
const stale = [['workflows', 'workflow-bundle.js'], ['triggers', 'trigger-bundle.js']].filter(([, file]) => {
  const path = join(dist, 'src', file);
  return !existsSync(path) || statSync(path).mtimeMs < newest;
});
if (stale.length > 0) {
  process.stderr.write('taskotron: bundling the workflow code…\n');
  const { writeBundle } = await import(new URL('../dist/src/worker/bundle.js', import.meta.url).href);
  for (const [kind] of stale) await writeBundle(kind);
}
