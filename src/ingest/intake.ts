// Ingest's decision for one message, with no Temporal in it: decode and check the envelope, drop the
// duplicates we just saw, ask the JobTrigger for the data dict, match the rules, and hand a
// TriggerRequest to whoever starts workflows. Every message ends in exactly one counter.
import { decodeFrames, checkEnvelope, topicEnvironment, truncate, DEFAULT_MAX_MESSAGE_BYTES, type Envelope, type RejectReason } from '../bus/envelope.js';
import type { InboundMessage } from '../bus/source.js';
import { deriveTriggerData, handlesTopic, type TriggerContext, type TriggerData } from './job-triggers.js';
import { planJobs, type PlannedDiscover, type PlannedTask } from './evaluate.js';
import type { RuleSet } from './rules.js';
import { Counters, RateLimitedLog, RecentKeys, type Logger } from './stats.js';

/** What the trigger workflow needs to know about one matched message. */
export interface TriggerRequest {
  msgId: string;
  topic: string;
  /** Unix seconds. */
  timestamp: number;
  data: TriggerData;
  tasks: PlannedTask[];
  discover: PlannedDiscover[];
}

export interface IntakeOptions {
  rules: () => RuleSet;
  validArches: readonly string[];
  context?: TriggerContext;
  /** Accept only these environments (`prod`, `stg`, …): trigger.cfg `deployment_type`. */
  environments?: readonly string[];
  maxMessageBytes?: number;
  /** Signature check; returns an error message or undefined when valid. */
  verify?: (envelope: Envelope, raw: Buffer | undefined) => string | undefined;
  log: Logger;
  recentCapacity?: number;
  /** Told how long each rule evaluation took, in seconds (the ingest's metrics histogram). */
  ruleEvaluation?: { observe(seconds: number): void };
}

export type Verdict =
  | { kind: 'rejected'; reason: RejectReason; detail: string }
  | { kind: 'duplicate'; msgId: string }
  | { kind: 'ignored'; msgId: string; why: string }
  | { kind: 'unmatched'; msgId: string; data: TriggerData }
  | { kind: 'matched'; request: TriggerRequest };

export class Intake {
  readonly counters = new Counters();
  private readonly recent: RecentKeys;
  private readonly badLog: RateLimitedLog;

  constructor(private readonly options: IntakeOptions) {
    this.recent = new RecentKeys(options.recentCapacity ?? 10_000);
    this.badLog = new RateLimitedLog(options.log);
  }

  /** From the two ZeroMQ frames. */
  fromFrames(frames: readonly Buffer[]): Verdict {
    const decoded = decodeFrames(frames, this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, handlesTopic);
    return this.fromInbound(frames.length === 2 ? { transport: 'fedmsg', decoded, signedText: frames[1]! } : { transport: 'fedmsg', decoded });
  }

  /**
   * From any transport. Only fedmsg messages carry X.509 signatures; an AMQP message's trust is the
   * broker's (TLS, per-user write permissions), so the signature check applies to fedmsg alone.
   */
  fromInbound(message: Pick<InboundMessage, 'transport' | 'decoded' | 'signedText'>): Verdict {
    this.counters.add('received');
    if (message.transport !== 'fedmsg') this.counters.add(`received.${message.transport}`);
    if (!message.decoded.ok) return this.reject(message.decoded.reason, message.decoded.detail);
    return this.decide(message.decoded.value, message.signedText, message.transport === 'fedmsg');
  }

  /** From an already parsed envelope (backfill, replay), with the text its signature covers when known. */
  fromEnvelope(value: unknown, signedText?: string): Verdict {
    this.counters.add('received');
    const checked = checkEnvelope(value);
    if (!checked.ok) return this.reject(checked.reason, checked.detail);
    return this.decide(checked.value, signedText !== undefined ? Buffer.from(signedText, 'utf8') : undefined, true);
  }

  private reject(reason: RejectReason, detail: string): Verdict {
    this.counters.add(`rejected.${reason}`);
    // An unhandled topic is what a prefix subscription brings; not worth a warning.
    if (reason === 'unknown-topic' || reason === 'wrong-environment') this.options.log('debug', `${reason}: ${detail}`);
    else this.badLog.warn(reason, `dropped a message (${reason}): ${detail}`);
    return { kind: 'rejected', reason, detail };
  }

  private decide(envelope: Envelope, raw: Buffer | undefined, signed: boolean): Verdict {
    const { environments } = this.options;
    if (environments && environments.length > 0) {
      const env = topicEnvironment(envelope.topic);
      if (!env || !environments.includes(env)) return this.reject('wrong-environment', `topic ${truncate(envelope.topic)}`);
    }
    if (signed && this.options.verify) {
      const problem = this.options.verify(envelope, raw);
      if (problem) return this.reject('bad-signature', `${envelope.msg_id}: ${problem}`);
    }
    const outcome = deriveTriggerData(envelope, this.options.context);
    if (!outcome) return this.reject('unknown-topic', `no JobTrigger for ${truncate(envelope.topic)}`);
    // After the cheap checks, before the rules: a redelivered message costs one Set lookup.
    if (this.recent.seen(envelope.msg_id)) {
      this.counters.add('duplicate');
      return { kind: 'duplicate', msgId: envelope.msg_id };
    }
    if ('ignored' in outcome) {
      this.counters.add('ignored');
      return { kind: 'ignored', msgId: envelope.msg_id, why: outcome.ignored };
    }
    // What rules match on becomes the job's input and lands in workflow history: a 1 MB package name
    // that fits under the transport limit must not. Real values (NVRs, tags, repo paths) are < 300.
    const long = longField(outcome.data);
    if (long) return this.reject('field-too-long', `${envelope.msg_id}: ${long} is longer than ${MAX_FIELD_LENGTH} characters`);
    const started = this.options.ruleEvaluation ? performance.now() : 0;
    const plan = planJobs(this.options.rules(), outcome.data, { validArches: this.options.validArches });
    this.options.ruleEvaluation?.observe((performance.now() - started) / 1000);
    if (plan.tasks.length === 0 && plan.discover.length === 0) {
      this.counters.add('unmatched');
      return { kind: 'unmatched', msgId: envelope.msg_id, data: outcome.data };
    }
    this.counters.add('matched');
    return {
      kind: 'matched',
      request: {
        msgId: envelope.msg_id,
        topic: envelope.topic,
        timestamp: envelope.timestamp,
        data: outcome.data,
        tasks: plan.tasks,
        discover: plan.discover,
      },
    };
  }

  /** A start that failed for good may be retried by a redelivery: let the duplicate filter forget it. */
  forget(msgId: string): void {
    this.recent.forget(msgId);
  }
}

/** The longest trigger-data string a job may be started with (see decide). */
export const MAX_FIELD_LENGTH = 1024;

/** The first string field of the trigger data (or string in a list) over MAX_FIELD_LENGTH. */
function longField(data: TriggerData): string | undefined {
  // for…in, not Object.entries: this runs for every message and the pairs would be garbage.
  for (const key in data) {
    const value = data[key];
    if (typeof value === 'string' && value.length > MAX_FIELD_LENGTH) return key;
    if (Array.isArray(value) && value.some((item) => typeof item === 'string' && item.length > MAX_FIELD_LENGTH)) return key;
  }
  return undefined;
}
