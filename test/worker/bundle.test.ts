// The prebuilt workflow bundles in dist/src (src/worker/bundle.ts, scripts/build-if-stale.mjs): one
// is used only while no compiled module is newer, and the bundles do not count as modules, so
// writing one does not make the other look stale (which would send every start back to webpack).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
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
