// moveIntoPlace: how the Temporal CLI's install, uv and the test venvs reach their place in .cache
// when several processes may be installing the same thing at once.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { moveIntoPlace } from '../../src/common/files.js';

function built(dir: string, content: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tool'), content);
  return dir;
}
const complete = (target: string, content: string) => () => existsSync(join(target, 'tool')) && readFileSync(join(target, 'tool'), 'utf8') === content;

test('a staged directory takes the place of a missing or incomplete target, its parent made on the way', () => {
  const root = mkdtempSync(join(tmpdir(), 'taskotron-place-'));
  const target = join(root, 'cache', 'tool-2');
  moveIntoPlace(built(join(root, 'staging-a'), 'v2'), target, complete(target, 'v2'));
  assert.equal(readFileSync(join(target, 'tool'), 'utf8'), 'v2');
  assert.equal(existsSync(join(root, 'staging-a')), false);

  // A copy that is not what is wanted (an older one, half a copy) is replaced.
  writeFileSync(join(target, 'tool'), 'half');
  writeFileSync(join(target, 'leftover'), '');
  moveIntoPlace(built(join(root, 'staging-b'), 'v2'), target, complete(target, 'v2'));
  assert.equal(readFileSync(join(target, 'tool'), 'utf8'), 'v2');
  assert.equal(existsSync(join(target, 'leftover')), false);
  assert.equal(existsSync(join(root, 'staging-b')), false);
});

test('a complete target is kept and the staging goes', () => {
  const root = mkdtempSync(join(tmpdir(), 'taskotron-place-'));
  const target = join(root, 'tool-2');
  built(target, 'v2');
  moveIntoPlace(built(join(root, 'staging-a'), 'mine'), target, () => existsSync(join(target, 'tool')));
  assert.equal(readFileSync(join(target, 'tool'), 'utf8'), 'v2');
  assert.equal(existsSync(join(root, 'staging-a')), false);

});

test("when the rename fails, another process's complete copy is kept; with none there, the rename's error is thrown", () => {
  const root = mkdtempSync(join(tmpdir(), 'taskotron-place-'));
  // The rename fails (here: the staging is gone); by then another process has put its copy there.
  const target = join(root, 'tool-2');
  let looks = 0;
  moveIntoPlace(join(root, 'no-staging'), target, () => looks++ > 0 && existsSync(built(target, 'theirs')));
  assert.equal(readFileSync(join(target, 'tool'), 'utf8'), 'theirs');

  // No complete copy after the failed rename: its error, not a silent success.
  assert.throws(() => moveIntoPlace(join(root, 'no-staging'), join(root, 'tool-3'), () => false), { code: 'ENOENT' });
  assert.equal(existsSync(join(root, 'tool-3')), false);
});

test('a target that cannot be made throws, and the staging is removed all the same', () => {
  const root = mkdtempSync(join(tmpdir(), 'taskotron-place-'));
  writeFileSync(join(root, 'cache'), 'a file where the cache directory should be');
  const staging = built(join(root, 'staging'), 'v2');
  assert.throws(() => moveIntoPlace(staging, join(root, 'cache', 'tool-2'), () => false));
  assert.equal(existsSync(staging), false);
});
