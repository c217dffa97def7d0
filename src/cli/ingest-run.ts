// `taskotron ingest`'s process (its options: ingest.ts): the sources, the rules, the trigger starts.
import { join } from 'node:path';
import { installRuntime } from '../worker/logging.js';
import { registerIngestMetrics, registerSignatureMetrics, ruleEvaluationHistogram } from '../ingest/metrics.js';
import { enabled, parseListen, processRegistry, serveMetrics, type MetricsEndpoint } from '../metrics/endpoint.js';
import { freePort } from '../devserver/server.js';
import { ingestConfig, type IngestConfig } from '../ingest/config.js';
import type { ConfigOverride } from '../config/load.js';
import { RulesLoadError } from '../ingest/live-rules.js';
import { IngestService } from '../ingest/service.js';
import { SignatureChecker } from '../bus/signature-checker.js';
import { stderrLogger } from '../ingest/stats.js';
import { defaultStateDir } from '../devserver/stack.js';
import { configFromOptions, temporalSettingsFromOptions } from './options.js';
import { overridesFrom } from './option-defs.js';
import type { IngestCliOptions } from './ingest.js';
import { serverNotReady } from './setup.js';

/** The ingest options given, as overrides of taskotron.yaml settings. */
export function ingestOverrides(options: IngestCliOptions): ConfigOverride[] {
  return overridesFrom([
    ['--rules', options.rules, 'ingest.rules'],
    ['--endpoint', options.endpoint, 'ingest.sources.fedmsg.endpoints'],
    ['--bind', options.bind, 'ingest.sources.fedmsg.bind'],
    ['--bind-allow', options.bindAllow, 'ingest.sources.fedmsg.bind_allow'],
    ['--topic', options.topic, 'ingest.sources.fedmsg.topics'],
    ['--arches', options.arches?.split(',').map((a) => a.trim()).filter(Boolean), 'ingest.arches'],
    ['--state-dir', options.stateDir, 'ingest.state_dir'],
    ['--datagrepper', options.datagrepper, 'ingest.datagrepper_url'],
    ['--task-repo', options.taskRepo, 'ingest.task_repo'],
    ['--trigger-queue', options.triggerQueue, 'ingest.trigger_queue'],
    ['--ingest-queue', options.ingestQueue, 'ingest.ingest_queue'],
    ['--run-trigger-workflows', options.runTriggerWorkflows || undefined, 'ingest.run_trigger_workflows'],
    ['--job-queue', options.jobQueue, 'ingest.job_queue'],
    ['--validate-signatures', options.validateSignatures || undefined, 'ingest.sources.fedmsg.validate_signatures'],
    ['--ca', options.ca, 'ingest.sources.fedmsg.ca_cert'],
    ['--crl', options.crl, 'ingest.sources.fedmsg.crl'],
  ]);
}

/** taskotron.yaml (or trigger.cfg) first, then the environment, then flags over them. */
export function ingestConfigFromOptions(options: IngestCliOptions): IngestConfig {
  const config = ingestConfig(configFromOptions(options, ingestOverrides(options)));
  // --- message sources (issue 12) --- flags, else TASKOTRON_INGEST_SOURCES (so `npm start` can be
  // pointed at a broker by its environment alone), else the file.
  const sources = options.source ?? process.env.TASKOTRON_INGEST_SOURCES?.split(',').map((s) => s.trim()).filter(Boolean);
  if (sources && sources.length > 0) {
    const bad = sources.find((s) => s !== 'fedmsg' && s !== 'amqp');
    if (bad) throw new Error(`--source / TASKOTRON_INGEST_SOURCES: expected fedmsg or amqp, got '${bad}'`);
    config.sources = [...new Set(sources)] as IngestConfig['sources'];
  }
  if (options.amqpUrl) config.amqp.url = options.amqpUrl;
  config.amqp.url ??= process.env.TASKOTRON_AMQP_URL;
  if (options.amqpQueue) config.amqp.queue = options.amqpQueue;
  if (options.amqpBinding) config.amqp.bindings = options.amqpBinding;
  if (options.amqpPrefetch) config.amqp.prefetch = options.amqpPrefetch;
  if (config.sources.includes('amqp') && !config.amqp.url) throw new Error("the 'amqp' source needs --amqp-url, [amqp] url or TASKOTRON_AMQP_URL");
  if (config.validateSignatures && !config.caCert) {
    throw new Error('--validate-signatures needs --ca (or [fedmsg] ca_cert_location): without a CA any self-signed certificate would pass');
  }
  return config;
}

/** Runs the ingest until SIGINT or SIGTERM. */
export async function runIngest(options: IngestCliOptions): Promise<void> {
  const log = stderrLogger(options.verbose ? 'debug' : 'info');
  const settings = configFromOptions(options, ingestOverrides(options));
  const metricsListen = enabled(options.metricsListen ?? (settings.metrics.ingest_listen || undefined));
  if (metricsListen) parseListen(metricsListen, 'metrics.ingest_listen (TASKOTRON_METRICS_INGEST_LISTEN, --metrics-listen)');
  // Temporal core's own metrics go to a private loopback port; our endpoint serves them with ours.
  const core = metricsListen ? `127.0.0.1:${await freePort()}` : undefined;
  installRuntime({ logLevel: 'WARN', ...(core ? { prometheusBindAddress: core } : {}) });
  const ruleEvaluation = ruleEvaluationHistogram();
  const config = ingestConfigFromOptions(options);
  if (!config.rulesFile) {
    // An operator's mistake, said as such (it was an uncaught error with a stack trace).
    console.error("taskotron ingest: no rules file: pass --rules <trigger_rules.yml>, or set ingest.rules in taskotron.yaml (TASKOTRON_INGEST_RULES) or rules_template in trigger.cfg's [trigger] section");
    process.exitCode = 2;
    return;
  }
  const stateDir = config.stateDir ?? join(defaultStateDir(), 'ingest');
  const signatures = config.validateSignatures ? await openSignatureChecker(config, stateDir, log) : undefined;
  // Not a config error: the file and environment are shared with processes that never check signatures,
  // and --validate-signatures may come from the command line alone.
  if (!signatures && (Object.keys(config.routingPolicy).length > 0 || config.routingNitpicky)) {
    log('warn', 'routing_policy / routing_nitpicky are ignored: they are enforced only with validate_signatures (only a checked signature proves who signed)');
  }
  const temporal = temporalSettingsFromOptions(options);
  let service: IngestService;
  try {
    service = await IngestService.start({
      config,
      temporal,
      stateDir,
      log,
      ruleEvaluation,
      ...(signatures ? { verify: signatures.verify } : {}),
    });
  } catch (error) {
    signatures?.close();
    if (error instanceof RulesLoadError) {
      // Diagnostics are for a human fixing the file: file:line:column lines, as `taskotron rules check` prints.
      for (const line of error.diagnostics) console.error(line);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  log('info', `taskotron ingest: ready on ${service.describeSources().join(', ')}; state in ${stateDir}`, { stateDir });
  // As the runner hosts do (src/cli/worker-run.ts): not a refusal, since `taskotron setup` may still be on
  // its way in a stack that starts in any order. But the operator must see why starts fail: without
  // the namespace they are retried from the spool; without the search attributes Temporal refuses
  // them for good (INVALID_ARGUMENT) and they go to refused.jsonl. In the background: the ingest
  // listens from the start, and an unreachable server is the lazy connection's to report.
  void serverNotReady(temporal).then((problem) => {
    if (!problem) return;
    log('error', `taskotron ingest: the Temporal server at ${temporal.address} is not set up for taskotron: ${problem}; trigger starts fail until \`taskotron setup --address ${temporal.address} --namespace ${temporal.namespace}\` has run (a start refused for good is kept in ${join(stateDir, 'refused.jsonl')})`, {
      address: temporal.address,
      namespace: temporal.namespace,
    });
  });
  let endpoint: MetricsEndpoint | undefined;
  if (metricsListen) {
    const registry = processRegistry();
    registerIngestMetrics(registry, service, ruleEvaluation);
    if (signatures) registerSignatureMetrics(registry, signatures);
    endpoint = await serveMetrics(registry, metricsListen, { ...(core ? { temporalCore: core } : {}) });
    log('info', `taskotron ingest: metrics on ${endpoint.url}`, { metrics: endpoint.url });
  }
  const counters = () => ({ ...service.stats(), ...signatures?.counters() });
  const timer = setInterval(() => log('info', 'counters', { counters: counters() }), options.statsInterval * 1000);
  timer.unref();
  process.on('SIGHUP', () => service.rules.reload('SIGHUP'));
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log('info', `${signal}: stopping`);
      void service.stop().then(() => {
        signatures?.close();
        log('info', 'stopped', { counters: counters() });
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  clearInterval(timer);
  await endpoint?.close();
}

/** The CA and CRL, from files or URLs, with fetched copies cached in the state directory unless configured elsewhere. */
export function openSignatureChecker(config: IngestConfig, stateDir: string, log: ReturnType<typeof stderrLogger>): Promise<SignatureChecker> {
  return SignatureChecker.open({
    ca: config.caCert!,
    caCache: config.caCertCache ?? join(stateDir, 'fedmsg-ca.crt'),
    caCacheExpirySeconds: config.caCertCacheExpirySeconds,
    ...(config.crl ? { crl: config.crl, crlCache: config.crlCache ?? join(stateDir, 'fedmsg-crl.pem') } : {}),
    crlCacheExpirySeconds: config.crlCacheExpirySeconds,
    crlStale: config.crlStale,
    routingPolicy: config.routingPolicy,
    routingNitpicky: config.routingNitpicky,
    log,
  });
}
