// The `taskotron` command's table of contents (src/cli/program.ts): what `taskotron --help`, a bare
// `taskotron` and a mistyped subcommand print is listed without loading any subcommand, and must be
// what the subcommands themselves register.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { Help } from 'commander';
import { buildProgram, SUBCOMMAND_LISTING } from '../../src/cli/program.js';
import { projectRoot } from '../../src/devserver/project.js';
import { cliArgs } from '../support/cli.js';

/** Runs `taskotron ARGS`, counting the Temporal SDK modules the process loads (test/support/count-sdk-modules.mjs). */
function taskotron(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; sdkModules: number }> {
  const preload = pathToFileURL(join(projectRoot(), 'test', 'support', 'count-sdk-modules.mjs')).href;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliArgs(), ...args], {
      cwd: projectRoot(),
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => {
      const counted = /# @temporalio modules loaded: (\d+)\n/.exec(stderr);
      assert.ok(counted, `the counting preload did not report:\n${stderr}`);
      resolve({ code, stdout, stderr, sdkModules: Number(counted[1]) });
    });
  });
}

test('the listing is what every subcommand registers: its name, and the options and arguments of its term', async () => {
  const program = await buildProgram();
  const help = new Help();
  const registered = Object.fromEntries(program.commands.map((c) => [c.name(), { term: help.subcommandTerm(c), description: c.description() }]));
  assert.deepEqual(registered, SUBCOMMAND_LISTING);
});

test('taskotron --help lists every subcommand without loading one (no Temporal SDK)', async () => {
  const run = await taskotron('--help');
  assert.equal(run.code, 0, run.stderr);
  for (const { term } of Object.values(SUBCOMMAND_LISTING)) assert.match(run.stdout, new RegExp(`^  ${term.replace(/[[\].]/g, '\\$&')} `, 'm'));
  assert.equal(run.sdkModules, 0);
});

test('a mistyped subcommand is refused with a suggestion, without loading one', async () => {
  const run = await taskotron('jbos', 'list');
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^error: unknown command 'jbos'\n\(Did you mean jobs\?\)/);
  assert.equal(run.sdkModules, 0);
});

test('a subcommand after options or `--` is the loaded one, never its listing', async () => {
  for (const args of [['--', 'runtask', '-t', 'koji_build', 'x.yml'], ['-h', 'runtask']]) {
    const run = await taskotron(...args);
    assert.doesNotMatch(run.stderr, /listed but not loaded/, args.join(' '));
    assert.doesNotMatch(`${run.stdout}${run.stderr}`, /\[options\] \[options\]/, args.join(' '));
  }
});

test('taskotron help SUBCOMMAND loads that subcommand and shows its options', async () => {
  const run = await taskotron('help', 'runtask');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: taskotron runtask \[options\] <formula>\n/);
  assert.match(run.stdout, /--wait-for-temporal <seconds>/);
  // runtask's command line loads the run (and the SDK) only once its options pass.
  assert.equal(run.sdkModules, 0);
});

test("every subcommand's --help answers without loading the Temporal SDK", async () => {
  // Each subcommand's module registers its options from light modules; what it does is loaded when it runs.
  const helps = [...Object.keys(SUBCOMMAND_LISTING).map((name) => [name]), ['jobs', 'list'], ['jobs', 'run'], ['artifacts', 'serve'], ['artifacts', 'clean'], ['rules', 'explain']];
  const runs = await Promise.all(helps.map((words) => taskotron(...words, '--help')));
  const loading = helps.filter((words, i) => runs[i]!.code !== 0 || runs[i]!.sdkModules > 0 || !runs[i]!.stdout.startsWith(`Usage: taskotron ${words.join(' ')} `));
  assert.deepEqual(loading.map((words) => words.join(' ')), [], runs.map((run, i) => `${helps[i]!.join(' ')}: exit ${run.code}, ${run.sdkModules} SDK modules`).join('\n'));
});
