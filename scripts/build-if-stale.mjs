// `npm start` runs the compiled CLI from dist/ (npm ci's `prepare` builds it). Compiling on every
// start cost 10–15 s of a warm start; this compiles only when a source is newer than its output (an
// edited checkout), so a warm start goes straight to the stack. It then writes the workflow bundles
// (src/worker/bundle.ts) beside the compiled code when one is older than any compiled module, so
// neither a runner nor an ingest running trigger workflows runs webpack at every start. Plain
// JavaScript on purpose: it must not need the compiler or tsx to decide whether the compiler is
// needed. `--compile-only` (the test harness, which bundles the workflow code itself) stops after the
// compile.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { distStaleReason, staleBundles } from './dist-freshness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const reason = distStaleReason(root);
if (reason) {
  process.stderr.write(`taskotron: compiling TypeScript (${reason})…\n`);
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
if (process.argv.includes('--compile-only')) process.exit(0);
const stale = staleBundles(root);
if (stale.length > 0) {
  process.stderr.write('taskotron: bundling the workflow code…\n');
  const { writeBundle } = await import(new URL('../dist/src/worker/bundle.js', import.meta.url).href);
  for (const [kind] of stale) await writeBundle(kind);
}
