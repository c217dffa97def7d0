// The taskotron.yaml file format, schema-first: this zod schema validates the file and the
// environment overrides, fills the defaults, names the TASKOTRON_… variables (see env.ts) and feeds
// schema/taskotron-config.schema.json and the tables in docs/operations.md. One file for every
// process: each reads the sections it needs.
import { z } from 'zod';
import { DEFAULT_ARTIFACTS_LISTEN } from '../artifacts/url.js';
import { parseAddressEntry } from '../bus/address-list.js';
import { OUTCOMES } from '../common/job.js';
import { describe } from '../formula/issues.js';

/** `30s`, `15m`, `2h`, `120d`, `2w`, `1d12h`: a unit always, so nobody wonders about seconds vs ms. */
export const CONFIG_DURATION_PATTERN = '^(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$';
const durationRe = new RegExp(CONFIG_DURATION_PATTERN);

/** Seconds in a config duration; undefined when it is not one (or is zero, unless allowed). */
export function configDurationSeconds(text: string, allowZero = false): number | undefined {
  const m = durationRe.exec(text);
  if (!m || text === '') return undefined;
  const [, w = '0', d = '0', h = '0', min = '0', s = '0'] = m;
  const seconds = Number(w) * 604_800 + Number(d) * 86_400 + Number(h) * 3600 + Number(min) * 60 + Number(s);
  return (seconds > 0 || (allowZero && seconds === 0)) && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** `500M`, `10G`, `1T`, `4096` (bytes); K/M/G/T are powers of 1024, an optional `iB`/`B` suffix is allowed. */
export const SIZE_PATTERN = '^([0-9]+)\\s*(?:([KMGT])(?:i?B)?|B)?$';
const sizeRe = new RegExp(SIZE_PATTERN, 'i');

export function sizeBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = sizeRe.exec(value.trim());
  if (!m) return undefined;
  const power = m[2] ? 'KMGT'.indexOf(m[2].toUpperCase()) + 1 : 0;
  const bytes = Number(m[1]) * 1024 ** power;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

// Leaf helpers. `format: 'path'` marks values that are file system paths: relative ones are taken
// relative to the file that sets them (or the working directory, for an environment variable).
const text = (description: string) => z.string().min(1).meta({ description });
const path = (description: string) => z.string().min(1).meta({ description, format: 'path' });
const url = (description: string) =>
  z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, { error: 'expected a URL such as https://host/path' }).meta({ description, format: 'uri' });
const listenRe = /^(?:\[[0-9a-f:.]+\]|[^\s:]+):[0-9]{1,5}$/i;
// One check, not a union: a union would report its `false` branch for a mistyped address.
const listen = (description: string) =>
  z
    .custom<string | false>((v) => v === false || (typeof v === 'string' && listenRe.test(v)), {
      error: (issue) => `expected host:port, e.g. 127.0.0.1:9464, or false, got ${describe(issue.input)}`,
    })
    .meta({ description, format: 'listen' });
const flag = (description: string) => z.boolean().meta({ description });
const positive = (description: string) => z.number().int().min(1).meta({ description });
const duration = (description: string, allowZero = false) =>
  z
    .string({ error: (issue) => (typeof issue.input === 'number' ? `a duration needs a unit: write ${String(issue.input)}s (or e.g. 15m, 2h, 120d)` : 'expected a duration such as 30s, 15m, 2h or 120d') })
    .refine((d) => configDurationSeconds(d, allowZero) !== undefined, {
      error: allowZero ? 'expected a duration such as 0s, 30s, 15m, 2h or 120d' : 'expected a duration longer than 0s, such as 30s, 15m, 2h or 120d',
    })
    .meta({ description, format: 'duration' });
const size = (description: string) =>
  z
    .union([z.number().int().min(0), z.string().regex(sizeRe)], { error: 'expected a size such as 500M, 10G or a number of bytes' })
    .meta({ description });
const strings = (description: string) => z.array(z.string().min(1)).meta({ description });
/** A section: unknown keys are errors (with a suggestion), missing ones take defaults. */
// The cast: zod cannot see that every key of `shape` is optional or defaulted, which is what lets `{}` stand for the section.
const section = <T extends z.core.$ZodLooseShape>(shape: T, description: string) =>
  z.strictObject(shape).prefault({} as z.input<z.ZodObject<T, z.core.$strict>>).meta({ description });
/** An optional section: present only when configured (e.g. a second message bus). */
const optionalSection = <T extends z.core.$ZodLooseShape>(shape: T, description: string) => z.strictObject(shape).optional().meta({ description });

const tlsFiles = (what: string) =>
  optionalSection(
    {
      ca: path(`CA certificate(s), PEM, that ${what}'s server certificate must chain to (default: the system's)`).optional(),
      cert: path('client certificate, PEM (mutual TLS; needs key)').optional(),
      key: path('client private key, PEM (mutual TLS; needs cert)').optional(),
      server_name: text('name to expect in the server certificate, when it differs from the host in the address').optional(),
    },
    `TLS towards ${what}`,
  );

export const TemporalSchema = section(
  {
    address: text('Temporal frontend, host:port').default('127.0.0.1:7233'),
    namespace: text('Temporal namespace').default('default'),
    api_key: text('API key (Temporal Cloud, or any server that authenticates with one); implies TLS. Prefer api_key_file').optional(),
    api_key_file: path('file holding the API key (keeps the secret out of this file)').optional(),
    tls: tlsFiles('Temporal'),
    ui_url: url('the Temporal Web UI, for links to a job\'s page').default('http://127.0.0.1:8233'),
    retention: duration('how long closed workflows (job history) are kept; `taskotron setup` registers the namespace with it').default('30d'),
  },
  'Where the Temporal server is and how to talk to it',
);

export const SandboxSchema = section(
  {
    backend: z.enum(['auto', 'bwrap', 'none']).default('auto').meta({ description: 'auto: bubblewrap where available; bwrap: required; none: no sandbox' }),
    network: flag('task code may use the network').default(true),
    env: strings('variables passed into the sandbox: NAME (copied from the runner) or NAME=VALUE').default([]),
  },
  "Each job's commands run in a per-job sandbox",
);

export const DownloadCacheSchema = section(
  {
    enabled: flag('keep downloaded RPMs and repodata between jobs').default(true),
    dir: path('where (default: <runner.root>/cache/downloads)').optional(),
    max_size: size('evict least recently used files above this').default('20G'),
  },
  'A shared cache of downloads from Koji and the package server',
);

export const RunnerSchema = section(
  {
    root: path('holds work/<uuid>, artifacts/<uuid> and mirror/ (default: <tmpdir>/taskotron)').optional(),
    hostname: text('name of this runner host (default: the machine hostname)').optional(),
    arch: text('architecture this host runs jobs for (default: the machine\'s, in Fedora\'s spelling)').optional(),
    concurrency: positive('jobs this host runs at once (its slots; more wait in the arch queue)').default(2),
    shutdown_grace: duration('on SIGINT/SIGTERM, how long running steps may finish before they are cancelled').default('30s'),
    workflow_failover: duration("how long a job's next workflow task waits for the host that ran its workflow code last before any runner takes it: what a job waits when that host died (Temporal's sticky schedule-to-start timeout)").default('10s'),
    python: text('interpreter for the python directive').default('python3'),
    install_deps: flag("install a task's missing environment.rpm packages with dnf instead of failing the job").default(false),
    keep_workdirs: flag("keep each job's workdir when it ends, for debugging (default: removed; artifacts always stay)").default(false),
    kill_grace: duration('between SIGTERM and SIGKILL when a step is cancelled').default('3s'),
    sandbox: SandboxSchema,
    koji_url: url('Koji hub XML-RPC API (koji directive)').optional(),
    pkg_url: url('Koji package server, where built RPMs are downloaded from').optional(),
    bodhi_url: url('Bodhi API (bodhi directive)').optional(),
    distgit_url: url('dist-git (Pagure) base URL: raw files at <distgit_url>/<namespace>/<package>/raw/<gitref>/f/<path>').optional(),
    yumrepoinfo: path('yumrepoinfo.conf for the yumrepoinfo directive').optional(),
    download_cache: DownloadCacheSchema,
  },
  'A runner host: disk layout, what it may do, where its directives fetch from',
);

export const FedmsgSourceSchema = optionalSection(
  {
    endpoints: strings('fedmsg publishers to connect to, e.g. tcp://hub.fedoraproject.org:9940').default([]),
    bind: strings('endpoints to bind for publishers that connect, e.g. tcp://127.0.0.1:9941').default([]),
    bind_allow: z
      .array(
        z.string().superRefine((entry, ctx) => {
          const parsed = parseAddressEntry(entry);
          if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
        }),
      )
      .default([])
      .meta({
        description:
          'addresses and networks (10.0.0.0/8, fd00::/8) allowed to connect to the tcp:// bind endpoints; any other peer is refused in the ZeroMQ handshake and counted as fedmsg.refused-peers. Empty: anyone who reaches the port',
      }),
    topics: z.array(z.string()).default(['']).meta({ description: 'topic prefixes to subscribe to; [""] is everything' }),
    // Real fedmsg messages are a few KB (the corpus's largest is 7.7 KB, signed envelopes add ~3 KB):
    // 1 MiB leaves a hundredfold margin and, times the high-water mark, bounds what a flood can queue.
    max_message_bytes: positive(
      'larger messages are refused: a frame over it is refused by ZeroMQ before it is read (ZMQ_MAXMSGSIZE; the connection is dropped and counted), two frames over it together are dropped and counted as oversize',
    ).default(1024 * 1024),
    receive_high_water_mark: positive('messages queued per publisher connection before ingest stops reading from it (ZMQ_RCVHWM); 0 (unbounded) is refused').default(100),
    validate_signatures: flag("drop messages whose X.509 signature does not verify (fedmsg's validate_signatures)").default(false),
    // fedmsg's ca_cert_location / crl_location and their caches: a file, or a URL fetched and kept current (src/bus/crl.ts).
    ca_cert: path('CA certificate(s), PEM, for validate_signatures: a file or an https:// URL (fedmsg ca_cert_location)').optional(),
    ca_cert_cache: path('where a CA fetched from a URL is kept (default: <state_dir>/fedmsg-ca.crt)').optional(),
    ca_cert_cache_expiry: duration('how often a CA from a URL is fetched again; 0s: never (fedmsg ca_cert_cache_expiry)', true).default('0s'),
    crl: path('certificate revocation list, PEM or DER: a file or an http(s):// URL such as https://fedoraproject.org/fedmsg/crl.pem (fedmsg crl_location)').optional(),
    crl_cache: path('where a CRL fetched from a URL is kept (default: <state_dir>/fedmsg-crl.pem)').optional(),
    crl_cache_expiry: duration('how often the CRL is fetched again, besides ahead of its nextUpdate; 0s: only then (fedmsg crl_cache_expiry)', true).default('1h'),
    crl_stale: z
      .enum(['refuse', 'warn'])
      .default('refuse')
      .meta({ description: 'a CRL past its nextUpdate (or none loaded yet): refuse the messages it would vouch for, as fedmsg does, or warn and accept them' }),
    routing_policy: z
      .record(z.string().min(1), z.array(z.string().min(1)))
      .default({})
      .meta({ description: "topic -> certificate common names allowed to send it; a listed topic from anyone else is refused (fedmsg routing_policy)" }),
    routing_nitpicky: flag('also refuse topics routing_policy does not list (fedmsg routing_nitpicky)').default(false),
  },
  'fedmsg (ZeroMQ SUB sockets)',
);

export const AmqpSourceSchema = optionalSection(
  {
    url: url('broker, e.g. amqps://rabbitmq.fedoraproject.org/%2Fpublic_pubsub'),
    exchange: text('exchange the bindings are on').default('amq.topic'),
    queue: text('durable queue name; a restarted ingest resumes from it').default('taskotron-ingest'),
    bindings: strings('routing keys (topics) to bind, e.g. org.fedoraproject.prod.buildsys.build.state.change').default(['#']),
    // 0 would mean unbounded in AMQP: exactly the memory bound this setting exists for.
    prefetch: positive('unacknowledged messages in flight (back-pressure while Temporal is unreachable)').default(25),
    frame_max: z.number().int().min(4096).default(131_072).meta({ description: 'largest AMQP frame negotiated and accepted, bytes' }),
    max_message_bytes: positive('larger bodies are rejected (no requeue) and counted as oversize without being parsed').default(1024 * 1024),
    tls: tlsFiles('the AMQP broker'),
  },
  'fedora-messaging (AMQP 0-9-1)',
);

export const IngestSchema = section(
  {
    rules: path('trigger_rules.yml (trigger.cfg: rules_template)').optional(),
    arches: z.array(z.string().min(1)).min(1).default(['x86_64']).meta({ description: 'arches a task runs on when its rule names none (trigger.cfg: valid_arches)' }),
    sources: section({ fedmsg: FedmsgSourceSchema, amqp: AmqpSourceSchema }, 'message buses to listen to; both feed the same rules'),
    datagrepper_url: url('datagrepper /raw URL to backfill from after a restart').optional(),
    fuse_delay: duration('how long a Koji tag must be quiet before its KojiTagChanged jobs start; 0s starts them at once', true).default('15m'),
    git_cache_dir: path('git mirrors for `discover` (default: <state_dir>/git-cache)').optional(),
    environments: strings('accept only messages from these fedmsg environments (trigger.cfg: deployment_type); [] = all').default([]),
    critpath_file: path('critical-path package names, one per line (${critpath_pkgs} in rules)').optional(),
    rawhide_release: positive("Rawhide's release number: fc<N> and later map to dist-git's main branch").optional(),
    state_dir: path('spool, checkpoint and git cache (default: $TASKOTRON_HOME/ingest or .taskotron/ingest)').optional(),
    // The original cloned from a mirror on the buildslave (grokmirror) unless a build said otherwise;
    // the default is likewise local to the runners, and reaches no network (Fedora's Pagure URL is in
    // examples/config/taskotron.production.yaml).
    task_repo: text("where a task named in the rules lives: ${task} is replaced; 'local:/path/${task}' for a directory on the runners, else a git URL cloned at task_ref").default('local:/var/lib/taskotron/tasks/${task}'),
    task_ref: text('branch or tag of the task repositories').default('master'),
    trigger_queue: text("task queue of trigger workflows (default: the runner workers' workflow queue)").default('taskotron'),
    ingest_queue: text("task queue of ingest's own activities (discover, tag forwarding)").default('ingest'),
    run_trigger_workflows: flag('also run the trigger workflows in the ingest process (costs a workflow isolate)').default(false),
    job_queue: text('task queue of job workflows').default('taskotron'),
    memory_queue: positive('matched messages held in memory while Temporal is unreachable, before the spool').default(10_000),
    backfill_rate: positive('datagrepper requests per second during backfill').default(2),
  },
  'The ingest: buses, rules and where tasks come from',
);

export const ResultsdbSchema = section(
  {
    url: url('API root, e.g. https://resultsdb.example.org/api/v2.0; unset: results go to <artifacts>/taskotron/results.yml').optional(),
    username: text('HTTP basic auth user, when ResultsDB sits behind authentication').optional(),
    password_file: path('file holding that user\'s password').optional(),
    namespaces_file: path('namespaces.yaml: who may post where (default: only scratch)').optional(),
    accepted_outcomes: z
      .array(z.enum(OUTCOMES))
      .min(1)
      .optional()
      .meta({ description: "outcomes this ResultsDB accepts (default: what the server publishes at GET /api/v2.0/)" }),
    testcase_ref_url_base: url('ref_url given to a new testcase: this prefix + the testcase name').default('https://fedoraproject.org/wiki/Taskotron/Tasks/'),
    request_timeout: duration('per HTTP request').default('30s'),
  },
  'Where results are reported',
);

export const ArtifactsSchema = section(
  {
    dir: path("the artifacts store; a job's artifacts are <dir>/<uuid>/ (default: <runner.root>/artifacts)").optional(),
    base_url: url("public URL of dir; a job's artifacts are at <base_url>/<uuid>/").optional(),
    listen: text('where `taskotron artifacts serve` listens, host:port').default(DEFAULT_ARTIFACTS_LISTEN),
    retention: duration('`taskotron artifacts clean` removes jobs older than this (default: keep)').optional(),
  },
  "Each job's logs and artifacts, on disk and on the web",
);

export const ResultsBusSchema = section(
  {
    fedmsg: optionalSection(
      {
        bind: text('bind this endpoint and publish there, e.g. tcp://0.0.0.0:9942').optional(),
        connect: text("connect to this endpoint (a relay's) and publish there").optional(),
        topic: text('topic of each message').default('org.fedoraproject.dev.taskotron.result.new'),
      },
      'publish on fedmsg (ZeroMQ PUB)',
    ),
    amqp: optionalSection(
      {
        url: url('broker, e.g. amqps://rabbitmq.example.org/%2F'),
        exchange: text('exchange to publish to').default('amq.topic'),
      },
      'publish on fedora-messaging (AMQP)',
    ),
  },
  'A taskotron.result.new message per reported result',
);

export const MetricsSchema = section(
  {
    // Off unless asked for: several workers on one host would fight over one port. `npm start` serves them
    // on 127.0.0.1:9464 (ingest) and :9465 (runner).
    ingest_listen: listen('Prometheus /metrics of the ingest, host:port; false: none (npm start: 127.0.0.1:9464)').default(false),
    runner_listen: listen('Prometheus /metrics of a runner worker, host:port; false: none (npm start: 127.0.0.1:9465)').default(false),
  },
  'Prometheus endpoints',
);

export const LoggingSchema = section(
  {
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info').meta({ description: 'least severe level printed' }),
    format: z.enum(['auto', 'json', 'pretty']).default('auto').meta({ description: 'auto: pretty on a terminal, JSON lines otherwise' }),
  },
  'Logs of every process',
);

export const TaskotronConfigSchema = z
  .strictObject({
    temporal: TemporalSchema,
    runner: RunnerSchema,
    ingest: IngestSchema,
    resultsdb: ResultsdbSchema,
    artifacts: ArtifactsSchema,
    results_bus: ResultsBusSchema,
    metrics: MetricsSchema,
    logging: LoggingSchema,
  })
  .superRefine((config, ctx) => {
    // Cross-field rules, each reported on the key that completes the pair.
    const pairs: Array<[readonly string[], { cert?: string; key?: string } | undefined]> = [
      [['temporal', 'tls'], config.temporal.tls],
      [['ingest', 'sources', 'amqp', 'tls'], config.ingest.sources.amqp?.tls],
    ];
    for (const [at, tls] of pairs) {
      if (tls && Boolean(tls.cert) !== Boolean(tls.key)) {
        const missing = tls.cert ? 'key' : 'cert';
        ctx.addIssue({ code: 'custom', path: [...at, tls.cert ? 'cert' : 'key'], message: `mutual TLS needs both cert and key: add ${[...at, missing].join('.')}` });
      }
    }
    if (config.temporal.api_key && config.temporal.api_key_file) {
      ctx.addIssue({ code: 'custom', path: ['temporal', 'api_key_file'], message: 'set api_key or api_key_file, not both' });
    }
    const fedmsg = config.ingest.sources.fedmsg;
    if (fedmsg?.validate_signatures && !fedmsg.ca_cert) {
      ctx.addIssue({ code: 'custom', path: ['ingest', 'sources', 'fedmsg', 'validate_signatures'], message: 'validate_signatures needs ca_cert: without a CA any self-signed certificate would pass' });
    }
    // A CRL is signed by the CA, so plain HTTP can only withhold it (and staleness covers that); a CA
    // fetched over plain HTTP could be anyone's.
    if (fedmsg?.ca_cert && /^http:\/\//i.test(fedmsg.ca_cert) && !/^http:\/\/(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?\//i.test(fedmsg.ca_cert)) {
      ctx.addIssue({ code: 'custom', path: ['ingest', 'sources', 'fedmsg', 'ca_cert'], message: 'a CA fetched over plain http:// could be anyone\'s: use https:// or a file' });
    }
    const bus = config.results_bus.fedmsg;
    if (bus && Boolean(bus.bind) === Boolean(bus.connect)) {
      ctx.addIssue({ code: 'custom', path: ['results_bus', 'fedmsg'], message: 'set exactly one of bind or connect' });
    }
    if (config.resultsdb.password_file && !config.resultsdb.username) {
      ctx.addIssue({ code: 'custom', path: ['resultsdb', 'password_file'], message: 'a password needs resultsdb.username' });
    }
  })
  .meta({ title: 'taskotron.yaml', description: 'Configuration of every taskotron process (ingest, runner workers, setup, artifacts server)' });

export type TaskotronConfig = z.output<typeof TaskotronConfigSchema>;
export type TaskotronConfigInput = z.input<typeof TaskotronConfigSchema>;
