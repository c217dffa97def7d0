// What the ingest process exports to Prometheus. Most values are read at scrape time from what the
// service already counts (src/ingest/stats.ts Counters, the starter's queues), so the message path
// pays nothing for them; only rule evaluation is timed per message.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SignatureChecker } from '../bus/signature-checker.js';
import type { IngestService } from './service.js';

/** Made before the service (it times every rule evaluation), registered with the rest. */
export function ruleEvaluationHistogram(): Histogram {
  return new Histogram({
    name: 'taskotron_ingest_rule_evaluation_seconds',
    help: 'Time to evaluate the trigger rules against one message',
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
    registers: [],
  });
}

const START_RESULTS: Record<string, string> = { started: 'started', 'already-started': 'already_started', 'start-refused': 'refused', 'start-retry': 'retry' };

export function registerIngestMetrics(registry: Registry, service: IngestService, ruleEvaluation: Histogram): void {
  registry.registerMetric(ruleEvaluation);
  const snapshot = () => service.intake.counters.snapshot();
  new Counter({
    name: 'taskotron_ingest_messages_total',
    help: 'Messages by how intake decided: matched, unmatched, ignored, duplicate, or rejected (with the reason)',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, count] of Object.entries(snapshot())) {
        if (name.startsWith('rejected.')) this.inc({ outcome: 'rejected', reason: name.slice('rejected.'.length) }, count);
        else if (['matched', 'unmatched', 'ignored', 'duplicate'].includes(name)) this.inc({ outcome: name, reason: '' }, count);
      }
    },
  });
  new Counter({
    name: 'taskotron_ingest_messages_received_total',
    help: 'Messages received from the bus, a backfill or a replay',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(snapshot().received ?? 0);
    },
  });
  new Counter({
    name: 'taskotron_ingest_backfilled_messages_total',
    help: 'Messages read from datagrepper by the backfill after a restart',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(snapshot().backfilled ?? 0);
    },
  });
  new Counter({
    name: 'taskotron_ingest_workflow_starts_total',
    help: 'Trigger workflow start attempts: started, already_started (a redelivery), refused, retry (Temporal unreachable)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = snapshot();
      for (const [name, result] of Object.entries(START_RESULTS)) this.inc({ result }, counts[name] ?? 0);
    },
  });
  new Counter({
    name: 'taskotron_ingest_spooled_messages_total',
    help: 'Matched messages written to the durable spool because Temporal could not take them',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(snapshot().spooled ?? 0);
    },
  });
  // Below intake: what a transport refused never becomes a message. A frame over max_message_bytes
  // makes libzmq drop the connection it came on, so it shows here as a disconnect (and, for an
  // endpoint ingest connects to, a protocol drop it re-dialled), not in messages_total.
  new Counter({
    name: 'taskotron_ingest_bus_connection_events_total',
    help: 'Bus connection events by transport: connections, disconnects (a publisher left, or ZeroMQ dropped it for a frame over max_message_bytes), handshake_failures, protocol_drops (a connected endpoint dropped without a retry and re-dialled)',
    labelNames: ['transport', 'event'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, count] of Object.entries(service.transportCounters())) {
        const [transport, event] = name.split('.', 2) as [string, string | undefined];
        if (event && event !== 'unacked') this.inc({ transport, event: event.replaceAll('-', '_').replace(/^connects$/, 'connections') }, count);
      }
    },
  });
  gauge(registry, 'taskotron_ingest_amqp_unacked', 'AMQP deliveries received and not yet settled (at most prefetch)', () => service.transportCounters()['amqp.unacked'] ?? 0);
  gauge(registry, 'taskotron_ingest_spool_depth', 'Matched messages waiting in the durable spool on disk', () => service.starter.spooled);
  gauge(registry, 'taskotron_ingest_pending_starts', 'Matched messages not yet started: in memory, in flight and spooled', () => service.starter.pending);
  gauge(registry, 'taskotron_ingest_temporal_available', '1 while Temporal accepts workflow starts, 0 while ingest holds messages', () => (service.starter.available ? 1 : 0));
  gauge(registry, 'taskotron_ingest_rules', 'Trigger rules currently loaded', () => service.rules.current.rules.length);
  gauge(registry, 'taskotron_ingest_backfill_lag_seconds', 'How far behind now the running backfill is (0 when none runs)', () => service.backfillLagSeconds());
  gauge(registry, 'taskotron_ingest_checkpoint_timestamp_seconds', 'Unix time of the newest message handled with nothing older still only in memory', () => service.checkpointTimestamp);
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** validate_signatures: every verdict by reason, and how fetching the CA and CRL goes. */
export function registerSignatureMetrics(registry: Registry, checker: SignatureChecker): void {
  new Counter({
    name: 'taskotron_ingest_signature_checks_total',
    help: 'fedmsg signature verdicts: accepted (reason "" or crl-stale/crl-unavailable under crl_stale: warn) or refused (revoked, untrusted, crl-stale, routing-policy, …)',
    labelNames: ['result', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, count] of Object.entries(checker.counters())) {
        const [prefix, result, ...reason] = name.split('.');
        if (prefix === 'signature' && result) this.inc({ result, reason: reason.join('.') }, count);
      }
    },
  });
  new Counter({
    name: 'taskotron_ingest_trust_fetches_total',
    help: 'Loads of the CA and CRL: refreshed, refresh_failed (old copy kept, retried with backoff), outdated (a CRL already past nextUpdate), from_cache',
    labelNames: ['file', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, count] of Object.entries(checker.counters())) {
        const [file, result] = name.split('.');
        if ((file === 'ca' || file === 'crl') && result) this.inc({ file, result: result.replace(/-/g, '_') }, count);
      }
    },
  });
  gauge(registry, 'taskotron_ingest_crl_next_update_timestamp_seconds', "Unix time of the loaded CRL's nextUpdate (0: none loaded)", () => checker.crlNextUpdate());
  gauge(registry, 'taskotron_ingest_crl_stale', '1 while the configured CRL is past its nextUpdate or not loaded; crl_stale decides what that means', () => (checker.crlStale() ? 1 : 0));
}
