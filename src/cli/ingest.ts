// `taskotron ingest`: the production ingest process. Reads taskotron.yaml's `ingest` section (or a
// trigger.cfg: the original's INI, plus [fedmsg] and [ingest] sections) and/or flags; SIGHUP reloads the rules, SIGINT/SIGTERM stop it
// after what is still in memory is written to the spool.
//
// This module is its options; the process itself (ingest-run.ts: ZeroMQ, AMQP, the Temporal SDK) is
// loaded once they have been parsed, so `ingest --help` and a usage error answer without it.
import type { Command } from 'commander';
import { addTemporalOptions, positiveInt } from './option-defs.js';

export interface IngestCliOptions {
  config?: string;
  rules?: string;
  endpoint?: string[];
  bind?: string[];
  bindAllow?: string[];
  topic?: string[];
  arches?: string;
  stateDir?: string;
  datagrepper?: string;
  taskRepo?: string;
  triggerQueue?: string;
  ingestQueue?: string;
  runTriggerWorkflows?: boolean;
  jobQueue?: string;
  validateSignatures?: boolean;
  ca?: string;
  crl?: string;
  source?: string[];
  amqpUrl?: string;
  amqpQueue?: string;
  amqpBinding?: string[];
  amqpPrefetch?: number;
  statsInterval: number;
  verbose?: boolean;
  address?: string;
  namespace?: string;
  metricsListen?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerIngest(program: Command): void {
  addTemporalOptions(
    program
      .command('ingest')
      .option('--rules <file>', 'trigger_rules.yml (overrides [trigger] rules_template)')
      .option('--endpoint <url>', 'a fedmsg publisher to connect to, e.g. tcp://hub.fedoraproject.org:9940 (repeatable)', collect)
      .option('--bind <url>', 'an endpoint to bind for publishers that connect, e.g. tcp://127.0.0.1:9941 (repeatable)', collect)
      .option('--bind-allow <address>', 'an address or network allowed to connect to the --bind endpoints, e.g. 10.0.0.0/8; others are refused (repeatable; default: anyone)', collect)
      .option('--topic <prefix>', 'topic prefix to subscribe to (repeatable; default: everything)', collect)
      .option('--arches <list>', 'valid arches for rules that name none (default x86_64)')
      .option('--state-dir <dir>', 'spool, checkpoint and git cache (default $TASKOTRON_HOME/ingest or .taskotron/ingest)')
      .option('--datagrepper <url>', 'datagrepper /raw URL to backfill from after a restart')
      .option('--task-repo <template>', "where a task lives: '${task}' is replaced; 'local:/path/${task}' for a directory on the runners")
      .option('--trigger-queue <queue>', 'task queue of trigger workflows (default: the runner workers\' workflow queue)')
      .option('--ingest-queue <queue>', 'task queue of this process\'s activities: discover, tag forwarding (default "ingest")')
      .option('--run-trigger-workflows', 'also run the trigger workflows in this process (costs a workflow isolate)')
      .option('--job-queue <queue>', 'task queue of job workflows (default: the runner workers\' workflow queue)')
      .option('--validate-signatures', 'drop messages whose X.509 signature does not verify')
      .option('--ca <file-or-url>', 'CA certificate(s), PEM, for --validate-signatures: a file or an https:// URL')
      .option('--crl <file-or-url>', 'certificate revocation list, PEM or DER: a file or a URL, fetched again before its nextUpdate')
      .option('--source <transport>', 'a message source: fedmsg (ZeroMQ) or amqp (fedora-messaging); repeatable (default: [ingest] sources, else fedmsg)', collect)
      .option('--amqp-url <url>', 'fedora-messaging broker, amqp[s]://user:password@host/vhost (env TASKOTRON_AMQP_URL)')
      .option('--amqp-queue <name>', 'durable queue to consume (default taskotron-ingest)')
      .option('--amqp-binding <pattern>', 'routing-key pattern bound on the exchange (repeatable; default #)', collect)
      .option('--amqp-prefetch <n>', 'unacknowledged AMQP deliveries at most (default 25)', positiveInt)
      .option('--stats-interval <seconds>', 'log the message counters this often', positiveInt, 60)
      .option('--verbose', 'log every ignored message')
      .option('--metrics-listen <host:port>', "serve Prometheus metrics on http://<host:port>/metrics, 'off' for none (env TASKOTRON_METRICS_INGEST_LISTEN; default off)"),
  ).action(async (options: IngestCliOptions) => (await import('./ingest-run.js')).runIngest(options));
}
