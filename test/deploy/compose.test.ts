// docker-compose.yml and Dockerfile, checked without a Docker engine: compose-go (the reference
// Compose loader, see test/support/compose.ts) loads, validates and normalizes the compose file, and
// every taskotron command a service runs must exist in our CLI with the options it is given; the
// configuration each taskotron container gets must load; the Temporal server must get the dynamic
// config that lifts the 20 reads/s transfer-queue floor. The images are not pulled or built here.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/load.js';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { projectRoot } from '../../src/devserver/project.js';
import { loadCompose } from '../support/compose.js';

const composeFile = join(projectRoot(), 'docker-compose.yml');
const TASKOTRON_SERVICES = ['taskotron-setup', 'ingest', 'runner', 'artifacts'];

/** The subcommand `argv` names, and the argv left for it; throws when a command or option is unknown. */
function resolveCommand(program: Command, argv: readonly string[]): Command {
  let command = program;
  let rest = [...argv];
  while (rest.length > 0 && !rest[0]!.startsWith('-')) {
    const next = command.commands.find((c) => c.name() === rest[0] || c.aliases().includes(rest[0]!));
    if (!next) break;
    command = next;
    rest = rest.slice(1);
  }
  assert.notEqual(command, program, `'taskotron ${argv.join(' ')}' names no taskotron command`);
  for (const arg of rest.filter((a) => a.startsWith('--'))) {
    const flag = arg.split('=')[0]!;
    assert.ok(command.options.some((o) => o.long === flag || o.long === flag.replace(/^--no-/, '--')), `'taskotron ${argv.join(' ')}': ${flag} is not an option of '${command.name()}'`);
  }
  return command;
}

test('compose-go loads docker-compose.yml: PostgreSQL, Temporal with its schema step, the UI, setup, ingest, runners, artifacts', () => {
  const project = loadCompose(composeFile);
  assert.equal(project.name, 'taskotron');
  for (const name of ['postgresql', 'temporal-schema', 'temporal', 'temporal-ui', ...TASKOTRON_SERVICES]) assert.ok(project.services[name], `service ${name}`);
  const s = project.services;
  assert.match(s.postgresql!.image!, /^postgres:/);
  assert.match(s.temporal!.image!, /^temporalio\/server:/);
  assert.match(s['temporal-ui']!.image!, /^temporalio\/ui:/);
  // The stack sets up its own schema, before the server starts, for both databases.
  const schema = [...(s['temporal-schema']!.entrypoint ?? []), ...(s['temporal-schema']!.command ?? [])].join(' ');
  for (const db of ['temporal', 'temporal_visibility']) {
    assert.match(schema, new RegExp(`--db ${db} setup-schema`));
    assert.match(schema, new RegExp(`--db ${db} update-schema -d /etc/temporal/schema/postgresql/v12/`));
  }
  assert.equal(s.temporal!.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
  assert.equal(s['temporal-schema']!.depends_on?.postgresql?.condition, 'service_healthy');
  assert.equal(s['taskotron-setup']!.depends_on?.temporal?.condition, 'service_healthy');
  for (const name of ['ingest', 'runner', 'artifacts']) assert.equal(s[name]!.depends_on?.['taskotron-setup']?.condition, 'service_completed_successfully', name);
});

test('every taskotron command the stack runs exists in our CLI, with the options it is given', async () => {
  const project = loadCompose(composeFile);
  const program = await buildProgram();
  const commands = TASKOTRON_SERVICES.map((name) => {
    const service = project.services[name]!;
    assert.equal(service.build?.dockerfile, 'Dockerfile', `${name} runs the taskotron image`);
    assert.equal(service.entrypoint ?? null, null, `${name} keeps the image's entrypoint (taskotron)`);
    assert.ok(service.command && service.command.length > 0, `${name} names a command`);
    return resolveCommand(program, service.command!).name();
  });
  assert.deepEqual(commands, ['setup', 'ingest', 'worker', 'serve']);
  assert.throws(() => resolveCommand(program, ['no-such-command']), /names no taskotron command/);
  assert.throws(() => resolveCommand(program, ['worker', '--no-such-option']), /is not an option of 'worker'/);
});

test('runners scale: no fixed container name and no published host port', () => {
  const runner = loadCompose(composeFile).services.runner!;
  assert.equal(runner.container_name, undefined);
  assert.deepEqual(runner.ports ?? [], []);
});

test('each taskotron container gets a configuration that loads, pointed at the compose Temporal server', () => {
  const project = loadCompose(composeFile);
  for (const name of TASKOTRON_SERVICES) {
    const service = project.services[name]!;
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).filter(([, v]) => v !== null)) as Record<string, string>;
    const mount = service.volumes?.find((v) => v.target === env.TASKOTRON_CONFIG);
    assert.ok(mount?.source, `${name} mounts its TASKOTRON_CONFIG`);
    const loaded = loadConfig({ file: mount.source, env });
    assert.deepEqual(loaded.errors.map(formatDiagnostic), [], name);
    const host = loaded.value!.temporal.address.split(':')[0]!;
    assert.ok(project.services[host], `${name}: temporal.address names the compose service '${host}'`);
    assert.equal(loaded.value!.temporal.namespace, project.services['temporal-ui']!.environment?.TEMPORAL_DEFAULT_NAMESPACE, `${name}: the UI opens the jobs' namespace`);
  }
});

test("the Temporal server gets a dynamic config raising history.transferProcessorMaxPollRPS above the default 20", () => {
  const temporal = loadCompose(composeFile).services.temporal!;
  const path = temporal.environment?.DYNAMIC_CONFIG_FILE_PATH;
  assert.ok(path, 'DYNAMIC_CONFIG_FILE_PATH is set');
  const mount = temporal.volumes?.find((v) => v.target === '/etc/temporal/config/dynamicconfig');
  assert.ok(mount?.source, 'the dynamic config directory is mounted where the image reads it');
  const dynamic = parse(readFileSync(join(mount.source, basename(path)), 'utf8')) as Record<string, Array<{ value: unknown; constraints: object }>>;
  const rps = dynamic['history.transferProcessorMaxPollRPS']?.[0]?.value;
  assert.ok(typeof rps === 'number' && rps > 20, `transferProcessorMaxPollRPS is ${String(rps)}`);
});

test('the loader is a real validator: a malformed compose file is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-compose-'));
  const bad = join(dir, 'docker-compose.yml');
  writeFileSync(bad, 'services:\n  x:\n    image: busybox\n    depends_on:\n      y:\n        condition: whenever\n');
  assert.throws(() => loadCompose(bad), /services\.x\.depends_on\.y\.condition value must be one of/);
});

test('the Dockerfile is multi-stage, runs as a non-root user, and its entrypoint is the taskotron CLI', () => {
  const dockerfile = readFileSync(join(projectRoot(), 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/gim)].map((m) => m[1]);
  assert.ok(stages.length >= 2, 'at least a build and a runtime stage');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `runtime USER is ${String(user)}`);
  assert.match(runtime, /ENTRYPOINT \[.*"node", "\/opt\/taskotron\/dist\/src\/cli\/main\.js"\]/);
  assert.match(runtime, /COPY --from=build/);
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
  assert.equal(pkg.bin.taskotron, 'dist/src/cli/main.js', 'the entrypoint is the built CLI');
  const prepare = pkg.scripts.prepare!.replace(/^npm run (?:--silent )?build$/, pkg.scripts.build!);
  assert.match(prepare, /tsc/, '`npm ci` in the build stage compiles dist/');
  // Everything the build copies from the repository exists, including what `prepare` runs.
  for (const [, sources] of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)) {
    for (const source of sources!.trim().split(/\s+/)) assert.ok(existsSync(join(projectRoot(), source)), `COPY ${source}: no such file`);
  }
  // What `prepare` runs, and the modules those scripts import beside them.
  const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)].flatMap(([, sources]) => sources!.trim().split(/\s+/));
  const scripts: string[] = [...(prepare.match(/scripts\/\S+/g) ?? [])];
  for (const script of scripts) {
    const text = readFileSync(join(projectRoot(), script), 'utf8');
    for (const [, local] of text.matchAll(/^import .* from '\.\/([^']+)';$/gm)) scripts.push(join(dirname(script), local!));
  }
  assert.ok(scripts.includes('scripts/dist-freshness.mjs'), scripts.join(', '));
  for (const script of scripts) assert.ok(copied.includes(script), `the build stage copies ${script}`);
});
