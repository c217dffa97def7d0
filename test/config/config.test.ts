// taskotron.yaml as a specification: defaults, the file, environment variables (new and old names)
// and options stack in that order; every mistake is named with file:line:column (or the variable)
// and key path; `config show` says where each value came from; `validate` knows the file.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configLeaves, describeSource, isConfigFile, loadConfig } from '../../src/config/load.js';
import { formatDiagnostic } from '../../src/formula/diagnostic.js';
import { ingestConfig } from '../../src/ingest/config.js';
import { reportingConfig } from '../../src/results/config.js';
import { runnerConfig } from '../../src/activities/runner-config.js';
import { temporalSettings } from '../../src/config/temporal.js';
import { shownSettings } from '../../src/cli/config.js';
import { runValidate } from '../../src/cli/validate.js';
import { projectRoot } from '../../src/devserver/project.js';
import { cliArgs } from '../support/cli.js';

const problems = (text: string, env: NodeJS.ProcessEnv = {}) => {
  const loaded = loadConfig({ file: 'taskotron.yaml', text, env });
  return [...loaded.errors, ...loaded.warnings].map(formatDiagnostic);
};

test('no file and no environment: the local stack defaults', () => {
  const { value, errors } = loadConfig({ env: {} });
  assert.deepEqual(errors, []);
  assert.equal(value!.temporal.address, '127.0.0.1:7233');
  assert.equal(value!.temporal.namespace, 'default');
  assert.equal(value!.metrics.ingest_listen, false, 'npm start asks for 127.0.0.1:9464 itself');
  assert.equal(value!.metrics.runner_listen, false);
  assert.equal(value!.logging.level, 'info');
  assert.equal(value!.artifacts.dir, join(value!.runner.root!, 'artifacts'));
  assert.deepEqual(ingestConfig(value!).validArches, ['x86_64']);
  assert.equal(runnerConfig(value!).killGraceMs, 3000);
});

test('invalid files: every problem at once, with file:line:column, key path and a suggestion', () => {
  const cases: Array<[string, string[]]> = [
    ['temporal:\n  adress: x:1\n', ["taskotron.yaml:2:3: error: temporal.adress: unknown key 'adress' — did you mean 'address'?"]],
    ['runnr:\n  root: /x\n', ["taskotron.yaml:1:1: error: runnr: unknown key 'runnr' — did you mean 'runner'?"]],
    ['runner:\n  install_deps: yes\n', ["taskotron.yaml:2:17: error: runner.install_deps: expected true or false, got 'yes' (YAML 1.2 reads 'yes' as text: write true or false)"]],
    ['runner:\n  concurrency: 0\n', ['taskotron.yaml:2:16: error: runner.concurrency: must be at least 1']],
    ['runner:\n  kill_grace: 3\n', ['taskotron.yaml:2:15: error: runner.kill_grace: a duration needs a unit: write 3s (or e.g. 15m, 2h, 120d)']],
    ['runner:\n  sandbox:\n    backend: bwarp\n', ["taskotron.yaml:3:14: error: runner.sandbox.backend: expected one of auto, bwrap, none, got 'bwarp' — did you mean 'bwrap'?"]],
    ['temporal:\n  tls:\n    cert: c.pem\n', ['taskotron.yaml:3:11: error: temporal.tls.cert: mutual TLS needs both cert and key: add temporal.tls.key']],
    ['resultsdb:\n  url: resultsdb.example.org\n', ["taskotron.yaml:2:8: error: resultsdb.url: expected a URL such as https://host/path, got 'resultsdb.example.org'"]],
    ['metrics:\n  ingest_listen: 9464\n', ['taskotron.yaml:2:18: error: metrics.ingest_listen: expected host:port, e.g. 127.0.0.1:9464, or false, got 9464']],
    ['ingest:\n  sources:\n    amqp:\n      exchange: amq.topic\n', ["taskotron.yaml:3:5: error: ingest.sources.amqp.url: missing required key 'url'"]],
    ['- temporal\n', ['taskotron.yaml:1:1: error: expected a mapping of sections (temporal, runner, ingest, …), got a list']],
    ['temporal: [\n', ['taskotron.yaml:2:1: error: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
  ];
  for (const [text, expected] of cases) assert.deepEqual(problems(text), expected, text);
});

test('environment variables override the file: TASKOTRON_<SECTION>_<KEY> and every name in use before', () => {
  const text = 'temporal:\n  address: temporal.example.org:7233\n  namespace: taskotron\nrunner:\n  concurrency: 4\n';
  const loaded = loadConfig({
    file: '/etc/taskotron/taskotron.yaml',
    text,
    env: {
      TEMPORAL_ADDRESS: 'other:7233',
      TASKOTRON_RUNNER_CONCURRENCY: '8',
      TASKOTRON_INSTALL_DEPS: '1',
      TASKOTRON_RUNNER_ROOT: 'runner-root',
      TASKOTRON_RESULTSDB_URL: 'http://127.0.0.1:5001/api/v2.0',
      TASKOTRON_ARTIFACTS_BASEURL: 'http://127.0.0.1:9470/artifacts',
      TASKOTRON_RESULT_BUS_BIND: 'tcp://127.0.0.1:9942',
      TASKOTRON_AMQP_URL: 'amqp://guest:guest@127.0.0.1/%2F',
      TASKOTRON_SANDBOX: 'none',
      TASKOTRON_INGEST_ARCHES: 'x86_64, aarch64',
      TASKOTRON_METRICS_RUNNER_LISTEN: 'off',
      TASKOTRON_METRICS_INGEST_LISTEN: '0.0.0.0:9464',
      TASKOTRON_LOGGING_FORMAT: 'json',
    },
    cwd: '/srv',
  });
  assert.deepEqual(loaded.errors, []);
  const config = loaded.value!;
  assert.equal(config.temporal.address, 'other:7233');
  assert.equal(config.temporal.namespace, 'taskotron');
  assert.equal(config.runner.concurrency, 8);
  assert.equal(config.runner.install_deps, true);
  assert.equal(config.runner.root, '/srv/runner-root', 'a relative path from a variable is taken from the working directory');
  assert.equal(config.runner.sandbox.backend, 'none');
  assert.deepEqual(config.ingest.arches, ['x86_64', 'aarch64']);
  assert.equal(config.ingest.sources.amqp?.url, 'amqp://guest:guest@127.0.0.1/%2F');
  assert.equal(config.metrics.runner_listen, false);
  assert.equal(config.metrics.ingest_listen, '0.0.0.0:9464');
  assert.equal(config.logging.format, 'json');
  const reporting = reportingConfig(config);
  assert.equal(reporting.resultsdbUrl, 'http://127.0.0.1:5001/api/v2.0');
  assert.equal(reporting.artifactsBaseUrl, 'http://127.0.0.1:9470/artifacts');
  assert.deepEqual(reporting.resultBus, { bind: 'tcp://127.0.0.1:9942', topic: 'org.fedoraproject.dev.taskotron.result.new' });
  assert.equal(describeSource(loaded.sources.get('temporal.address')!), 'env TEMPORAL_ADDRESS');
  assert.equal(describeSource(loaded.sources.get('temporal.namespace')!), '/etc/taskotron/taskotron.yaml:3');
  assert.equal(describeSource(loaded.sources.get('runner.install_deps')!), 'env TASKOTRON_INSTALL_DEPS');
  assert.equal(describeSource(loaded.sources.get('runner.python')!), 'default');
});

test('a bad variable is named, not a file position; an unknown TASKOTRON_ setting is a warning', () => {
  assert.deepEqual(problems('', { TASKOTRON_RUNNER_CONCURRENCY: 'many', TEMPORAL_ADDRESS: 'a:1', TASKOTRON_TEMPORAL_ADDRESS: 'b:2', TASKOTRON_RUNNER_CONCURENCY: '2' }), [
    "env TASKOTRON_RUNNER_CONCURRENCY: error: runner.concurrency: expected a whole number, got 'many'",
    'env TASKOTRON_RUNNER_CONCURENCY: warning: unknown setting, ignored — did you mean TASKOTRON_RUNNER_CONCURRENCY?',
    'env TASKOTRON_TEMPORAL_ADDRESS: warning: temporal.address: ignored: TEMPORAL_ADDRESS is set too and wins',
  ]);
  assert.deepEqual(problems('', { TASKOTRON_LOGGING_LEVEL: 'loud' }), ["env TASKOTRON_LOGGING_LEVEL: error: logging.level: expected one of trace, debug, info, warn, error, got 'loud'"]);
});

test('relative paths in the file are relative to the file; TLS and API key files are read when connecting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-config-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'key.txt'), 'secret-key\n');
  const loaded = loadConfig({ file: join(dir, 'taskotron.yaml'), text: 'temporal:\n  api_key_file: key.txt\n  tls:\n    ca: ca.pem\ningest:\n  rules: rules/trigger_rules.yml\n', env: {} });
  assert.deepEqual(loaded.errors, []);
  assert.equal(loaded.value!.ingest.rules, join(dir, 'rules/trigger_rules.yml'));
  const settings = temporalSettings(loaded.value!.temporal);
  assert.equal(settings.apiKey, 'secret-key');
  assert.deepEqual(settings.tls, { serverRootCACertificate: Buffer.from('CA') });
});

test('a trigger.cfg is still accepted: its keys land in the ingest section, its mistakes are named by their INI key', () => {
  const text = '[trigger]\nvalid_arches = x86_64, armhfp\nfuse_delay = 900 ; seconds\nrules_template = trigger_rules.yml\ndatagrepper_url = nope\n[buildbot]\nurl = x\n';
  const loaded = loadConfig({ file: '/etc/taskotron/trigger.cfg', text, env: {} });
  assert.deepEqual(loaded.errors.map(formatDiagnostic), ["/etc/taskotron/trigger.cfg:5:1: error: trigger.datagrepper_url: expected a URL such as https://host/path, got 'nope'"]);
  const good = loadConfig({ file: '/etc/taskotron/trigger.cfg', text: text.replace('nope', 'https://apps.fedoraproject.org/datagrepper/raw'), env: {} });
  const ingest = ingestConfig(good.value!);
  assert.deepEqual(ingest.validArches, ['x86_64', 'armhfp']);
  assert.equal(ingest.fuseDelaySeconds, 900);
  assert.equal(ingest.rulesFile, '/etc/taskotron/trigger_rules.yml');
  assert.equal(describeSource(good.sources.get('ingest.arches')!), '/etc/taskotron/trigger.cfg:2 (trigger.valid_arches)');
});

test('every setting has a TASKOTRON_ variable and a description; secrets are not shown', () => {
  for (const leaf of configLeaves()) {
    assert.ok(leaf.env.includes(`TASKOTRON_${leaf.path.join('_').toUpperCase()}`), leaf.path.join('.'));
    assert.ok(leaf.description, `${leaf.path.join('.')} has a description`);
  }
  const shown = shownSettings(undefined, { TEMPORAL_API_KEY: 'sekrit', TASKOTRON_AMQP_URL: 'amqps://user:pw@broker/%2F' });
  const byKey = new Map(shown.settings.map((s) => [s.key, s]));
  assert.equal(byKey.get('temporal.api_key')!.value, '********');
  assert.equal(byKey.get('ingest.sources.amqp.url')!.value, 'amqps://user:********@broker/%2F');
  assert.deepEqual(byKey.get('temporal.api_key')!.source, { kind: 'env', name: 'TEMPORAL_API_KEY' });
  assert.deepEqual(byKey.get('temporal.address')!.source, { kind: 'default' });
});

test('taskotron validate recognises configuration files by name and by content, and checks the examples', async () => {
  assert.ok(isConfigFile('/etc/taskotron/taskotron.yaml'));
  assert.ok(isConfigFile('trigger.cfg'));
  assert.ok(isConfigFile('site.yaml', 'temporal:\n  address: x:1\nrunner: {}\n'));
  assert.ok(!isConfigFile('runtask.yml', 'name: x\ndesc: y\nactions: []\n'));
  const lines: string[] = [];
  const examples = ['taskotron.local.yaml', 'taskotron.production.yaml'].map((f) => join(projectRoot(), 'examples', 'config', f));
  assert.equal(await runValidate(examples, {}, (l) => lines.push(l)), 0, lines.join('\n'));
  assert.match(lines.join('\n'), /taskotron\.production\.yaml: valid config/);
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-config-'));
  writeFileSync(join(dir, 'taskotron.yaml'), 'runner:\n  concurency: 4\n');
  lines.length = 0;
  assert.equal(await runValidate([join(dir, 'taskotron.yaml')], {}, (l) => lines.push(l)), 1);
  assert.deepEqual(lines, [`${join(dir, 'taskotron.yaml')}:2:3: error: runner.concurency: unknown key 'concurency' — did you mean 'concurrency'?`]);
});

test('the CLI: `config show` names each source; a bad configuration stops a command with exit 2 and every problem, no stack trace', async () => {
  const { execFile } = await import('node:child_process');
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [...cliArgs(), ...args], { cwd: projectRoot(), env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stdout, stderr }),
      );
    });
  const dir = mkdtempSync(join(tmpdir(), 'taskotron-config-'));
  const file = join(dir, 'taskotron.yaml');
  writeFileSync(file, 'temporal:\n  namespace: taskotron\nrunner:\n  concurrency: 4\n');
  const shown = await run(['config', 'show', '--config', file], { TASKOTRON_RUNNER_CONCURRENCY: '6', TEMPORAL_ADDRESS: '127.0.0.1:1' });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^# configuration file: ${file}$`, 'm'));
  assert.match(shown.stdout, new RegExp(`^temporal\\.namespace +taskotron +${file}:2$`, 'm'));
  assert.match(shown.stdout, /^temporal\.address +127\.0\.0\.1:1 +env TEMPORAL_ADDRESS$/m);
  assert.match(shown.stdout, /^runner\.concurrency +6 +env TASKOTRON_RUNNER_CONCURRENCY$/m);
  assert.match(shown.stdout, /^runner\.python +python3 +default$/m);

  writeFileSync(file, 'temporal:\n  namespace: taskotron\nrunner:\n  concurency: 4\n');
  const bad = await run(['worker', '--config', file], { TASKOTRON_LOGGING_LEVEL: 'loud' });
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr.trim(),
    [
      `${file}:4:3: error: runner.concurency: unknown key 'concurency' — did you mean 'concurrency'?`,
      "env TASKOTRON_LOGGING_LEVEL: error: logging.level: expected one of trace, debug, info, warn, error, got 'loud'",
    ].join('\n'),
  );
});

test('durations always carry a unit: s, m, h, d, w and their sums', async () => {
  const { configDurationSeconds } = await import('../../src/config/schema.js');
  assert.equal(configDurationSeconds('90s'), 90);
  assert.equal(configDurationSeconds('1d12h'), 129_600);
  assert.equal(configDurationSeconds('2w'), 1_209_600);
  assert.equal(configDurationSeconds('120d'), 10_368_000);
  assert.equal(configDurationSeconds('0s'), undefined);
  assert.equal(configDurationSeconds('0s', true), 0);
  assert.equal(configDurationSeconds('90'), undefined);
  assert.equal(configDurationSeconds('1h2d'), undefined);
});

test('every environment variable name in use before taskotron.yaml still sets its setting', () => {
  const cases: Array<[string, string, string, unknown]> = [
    ['TEMPORAL_ADDRESS', 'temporal.address', 'h:1', 'h:1'],
    ['TEMPORAL_NAMESPACE', 'temporal.namespace', 'ns', 'ns'],
    ['TEMPORAL_API_KEY', 'temporal.api_key', 'k', 'k'],
    ['TEMPORAL_TLS_CA', 'temporal.tls.ca', '/ca.pem', '/ca.pem'],
    ['TASKOTRON_TEMPORAL_UI_URL', 'temporal.ui_url', 'http://ui:8080', 'http://ui:8080'],
    ['TASKOTRON_RUNNER_ROOT', 'runner.root', '/srv/runner', '/srv/runner'],
    ['TASKOTRON_INSTALL_DEPS', 'runner.install_deps', '1', true],
    ['TASKOTRON_PYTHON', 'runner.python', 'python3.12', 'python3.12'],
    ['TASKOTRON_SANDBOX', 'runner.sandbox.backend', 'bwrap', 'bwrap'],
    ['TASKOTRON_SANDBOX_NETWORK', 'runner.sandbox.network', '0', false],
    ['TASKOTRON_KOJI_URL', 'runner.koji_url', 'http://127.0.0.1:1/kojihub', 'http://127.0.0.1:1/kojihub'],
    ['TASKOTRON_PKG_URL', 'runner.pkg_url', 'http://127.0.0.1:1/packages', 'http://127.0.0.1:1/packages'],
    ['TASKOTRON_BODHI_URL', 'runner.bodhi_url', 'http://127.0.0.1:2', 'http://127.0.0.1:2'],
    ['TASKOTRON_DISTGIT_URL', 'runner.distgit_url', 'http://127.0.0.1:3', 'http://127.0.0.1:3'],
    ['TASKOTRON_YUMREPOINFO', 'runner.yumrepoinfo', '/etc/y.conf', '/etc/y.conf'],
    ['TASKOTRON_DOWNLOAD_CACHE_ENABLED', 'runner.download_cache.enabled', 'false', false],
    ['TASKOTRON_DOWNLOAD_CACHE_DIR', 'runner.download_cache.dir', '/var/cache/t', '/var/cache/t'],
    ['TASKOTRON_DOWNLOAD_CACHE_MAX_SIZE', 'runner.download_cache.max_size', '500M', '500M'],
    ['TASKOTRON_AMQP_URL', 'ingest.sources.amqp.url', 'amqp://127.0.0.1/%2F', 'amqp://127.0.0.1/%2F'],
    ['TASKOTRON_RESULTSDB_URL', 'resultsdb.url', 'http://127.0.0.1:4/api/v2.0', 'http://127.0.0.1:4/api/v2.0'],
    ['TASKOTRON_RESULTSDB_USERNAME', 'resultsdb.username', 'taskotron', 'taskotron'],
    ['TASKOTRON_NAMESPACES_FILE', 'resultsdb.namespaces_file', '/etc/n.yaml', '/etc/n.yaml'],
    ['TASKOTRON_ARTIFACTS_BASEURL', 'artifacts.base_url', 'http://127.0.0.1:9470', 'http://127.0.0.1:9470'],
    ['TASKOTRON_RESULT_BUS_CONNECT', 'results_bus.fedmsg.connect', 'tcp://127.0.0.1:9943', 'tcp://127.0.0.1:9943'],
  ];
  for (const [name, key, raw, expected] of cases) {
    const loaded = loadConfig({ env: { [name]: raw } });
    assert.deepEqual(loaded.errors.map(formatDiagnostic), [], name);
    assert.deepEqual(key.split('.').reduce<unknown>((at, k) => (at as Record<string, unknown>)[k], loaded.value), expected, name);
    assert.deepEqual(loaded.sources.get(key), { kind: 'env', name }, name);
  }
  // A password file needs its user; the pair together is fine.
  assert.deepEqual(loadConfig({ env: { TASKOTRON_RESULTSDB_USERNAME: 'u', TASKOTRON_RESULTSDB_PASSWORD_FILE: '/etc/p' } }).errors, []);
  assert.deepEqual(loadConfig({ env: { TASKOTRON_RESULT_BUS_BIND: 'tcp://127.0.0.1:9942', TASKOTRON_RESULT_BUS_TOPIC: 't' } }).value!.results_bus.fedmsg, { bind: 'tcp://127.0.0.1:9942', topic: 't' });
});

test('trigger.cfg chooses buses with [ingest] sources and configures AMQP in [amqp]; signatures need a CA', () => {
  const text = '[trigger]\nvalid_arches = x86_64\n[ingest]\nsources = amqp\n[amqp]\nurl = amqps://broker.example.org/%2Fpublic_pubsub\nbindings = org.fedoraproject.prod.buildsys.#, org.fedoraproject.prod.pungi.#\nprefetch = 10\ntls_ca = ca.pem\n[fedmsg]\nendpoints = tcp://hub.example.org:9940\n';
  const loaded = loadConfig({ file: '/etc/taskotron/trigger.cfg', text, env: {} });
  assert.deepEqual(loaded.errors, []);
  const sources = loaded.value!.ingest.sources;
  assert.equal(sources.fedmsg, undefined, 'fedmsg is not among the sources');
  assert.deepEqual(sources.amqp, {
    url: 'amqps://broker.example.org/%2Fpublic_pubsub',
    exchange: 'amq.topic',
    queue: 'taskotron-ingest',
    bindings: ['org.fedoraproject.prod.buildsys.#', 'org.fedoraproject.prod.pungi.#'],
    prefetch: 10,
    frame_max: 131_072,
    max_message_bytes: 1_048_576,
    tls: { ca: '/etc/taskotron/ca.pem' },
  });
  const bad = loadConfig({ file: 't.cfg', text: '[ingest]\nsources = amqp, zeromq\n[fedmsg]\nvalidate_signatures = true\n', env: {} });
  assert.deepEqual(bad.errors.map(formatDiagnostic), ["t.cfg:2:1: error: ingest.sources: expected one or more of fedmsg, amqp, got 'amqp, zeromq'"]);
  assert.deepEqual(problems('ingest:\n  sources:\n    fedmsg:\n      validate_signatures: true\n'), [
    'taskotron.yaml:4:28: error: ingest.sources.fedmsg.validate_signatures: validate_signatures needs ca_cert: without a CA any self-signed certificate would pass',
  ]);
});
