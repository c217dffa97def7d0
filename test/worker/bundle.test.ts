// The prebuilt workflow bundles in dist/src (src/worker/bundle.ts, scripts/dist-freshness.mjs): one
// is used only while no compiled module is newer, and the bundles do not count as modules, so
// writing one does not make the other look stale (which would send every start back to webpack).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { projectRoot } from '../../src/devserver/project.js';
import { bundleIsFresh } from '../../src/worker/bundle.js';

test('a prebuilt bundle is fresh until a compiled module is newer; writing one bundle leaves the other fresh', () => {
  const dist = mkdtempSync(join(tmpdir(), 'taskotron-bundles-'));
  mkdirSync(join(dist, 'workflows'));
  const module = join(dist, 'workflows', 'job.js');
  const workflows = join(dist, 'workflow-bundle.js');
  const triggers = join(dist, 'trigger-bundle.js');
  const write = (path: string, mtimeS: number) => {
    writeFileSync(path, '');
    utimesSync(path, mtimeS, mtimeS);
  };
  write(module, 1000);
  assert.equal(bundleIsFresh(workflows), false, 'no bundle yet');
  write(workflows, 2000);
  assert.equal(bundleIsFresh(workflows), true);
  write(triggers, 3000);
  assert.equal(bundleIsFresh(workflows), true, 'the trigger bundle, written later, is not a compiled module');
  assert.equal(bundleIsFresh(triggers), true);
  write(module, 4000);
  assert.equal(bundleIsFresh(workflows), false, 'a module compiled after the bundles');
  assert.equal(bundleIsFresh(triggers), false);
});

// scripts/dist-freshness.mjs states the same rules in plain JavaScript (build-if-stale.mjs and the
// test harness ask it without loading the SDK or tsx); it is imported by path, as the harness's
// transpiled copy of this file has no scripts/ beside it.
const freshness = (): Promise<typeof import('../../scripts/dist-freshness.mjs')> =>
  import(pathToFileURL(join(projectRoot(), 'scripts', 'dist-freshness.mjs')).href);

test('dist/ is current only while every source is older than its output and no tsconfig is newer; bundles go stale as in bundleIsFresh', async () => {
  const { distStaleReason, staleBundles } = await freshness();
  const root = mkdtempSync(join(tmpdir(), 'taskotron-dist-'));
  const write = (path: string, mtimeS: number) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), mtimeS, mtimeS);
  };
  write('src/workflows/job.ts', 1000);
  write('tsconfig.json', 500);
  write('tsconfig.build.json', 500);
  assert.equal(distStaleReason(root), 'dist/ is missing');
  write('dist/src/cli/main.js', 2000);
  assert.equal(distStaleReason(root), 'dist/src/workflows/job.js is missing');
  write('dist/src/workflows/job.js', 2000);
  assert.equal(distStaleReason(root), undefined);
  write('tsconfig.build.json', 2500);
  assert.equal(distStaleReason(root), 'tsconfig.build.json changed');
  write('tsconfig.build.json', 500);
  write('src/workflows/job.ts', 3000);
  assert.equal(distStaleReason(root), 'src/workflows/job.ts changed');
  write('dist/src/workflows/job.js', 3500);

  const dist = join(root, 'dist', 'src');
  const agrees = () => {
    const stale = staleBundles(root).map(([kind]) => kind);
    assert.deepEqual(stale, (['workflows', 'triggers'] as const).filter((kind) => !bundleIsFresh(join(dist, `${kind === 'workflows' ? 'workflow' : 'trigger'}-bundle.js`))));
    return stale;
  };
  assert.deepEqual(agrees(), ['workflows', 'triggers'], 'no bundle yet');
  write('dist/src/workflow-bundle.js', 4000);
  assert.deepEqual(agrees(), ['triggers']);
  write('dist/src/trigger-bundle.js', 5000);
  assert.deepEqual(agrees(), [], 'a bundle written later is not a compiled module');
  write('dist/src/workflows/job.js', 4500);
  assert.deepEqual(agrees(), ['workflows'], 'a module compiled after one bundle');
});
