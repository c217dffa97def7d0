// Rules reload on a file change or on request (SIGHUP), and a bad edit keeps the last good rules.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LiveRules, RulesLoadError } from '../../src/ingest/live-rules.js';
import { until } from '../support/until.js';

const rpmlint = '- when: {message_type: KojiBuildPackageCompleted}\n  do: [{tasks: [rpmlint]}]\n';
const two = `${rpmlint}- when: {message_type: KojiTagChanged}\n  do: [{tasks: [rpmdeplint]}]\n`;
const broken = '- when: {message_type: KojiTagChanged}\n  do: [{tasks: rpmdeplint}]\n';

test('an invalid rules file at start is an error with file:line:column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-rules-'));
  try {
    writeFileSync(join(dir, 'trigger_rules.yml'), broken);
    assert.throws(() => LiveRules.open(join(dir, 'trigger_rules.yml'), () => {}), (error: unknown) => {
      assert.ok(error instanceof RulesLoadError);
      assert.deepEqual(error.diagnostics, [`${join(dir, 'trigger_rules.yml')}:2:16: error: [0].do[0].tasks: 'tasks' needs a non-empty list of task names`]);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rules reload when the file changes (also when replaced by rename); a bad edit keeps the last good rules', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-rules-'));
  const file = join(dir, 'trigger_rules.yml');
  const logged: string[] = [];
  writeFileSync(file, rpmlint);
  const live = LiveRules.open(file, (level, message) => logged.push(`${level}: ${message}`));
  live.watch(50);
  try {
    assert.equal(live.current.rules.length, 1);
    writeFileSync(file, two);
    await until('the reloaded rules', () => live.current.rules.length === 2, 5000);

    writeFileSync(file, broken);
    await until('the invalid file to be logged', () => logged.some((l) => l.includes('file is invalid')), 5000);
    assert.equal(live.current.rules.length, 2, 'the last good rules stay in use');
    assert.ok(logged.includes(`error: ${file}:2:16: error: [0].do[0].tasks: 'tasks' needs a non-empty list of task names`), logged.join('\n'));

    // Config management writes a temporary file and renames it over the rules.
    writeFileSync(join(dir, 'tmp.yml'), rpmlint);
    renameSync(join(dir, 'tmp.yml'), file);
    await until('the rules of the fixed file', () => live.current.rules.length === 1, 5000);
  } finally {
    live.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reload() (what SIGHUP calls) takes a valid file and refuses an invalid one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-rules-'));
  const file = join(dir, 'trigger_rules.yml');
  try {
    writeFileSync(file, rpmlint);
    const live = LiveRules.open(file, () => {});
    writeFileSync(file, two);
    assert.equal(live.reload('SIGHUP'), true);
    assert.equal(live.current.rules.length, 2);
    writeFileSync(file, broken);
    assert.equal(live.reload('SIGHUP'), false);
    assert.equal(live.current.rules.length, 2);
    rmSync(file);
    assert.equal(live.reload('SIGHUP'), false, 'a deleted file keeps the rules too');
    assert.equal(live.current.rules.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
