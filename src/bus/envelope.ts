// The fedmsg envelope (reference §3.2) and the checks every message passes before anything reads
// it. A message that fails a check is data about a bad sender, not an error of ours: the result
// names a reason that ingest counts, never an exception.
import { JsonNumber, parseJsonKeepingNumbers, plainJson, pythonJsonDumps, type RawJson } from './canonical-json.js';

export interface Envelope {
  topic: string;
  msg_id: string;
  /** Unix seconds (int on the bus, float in datagrepper copies). */
  timestamp: number;
  msg: Record<string, unknown>;
  i?: number;
  username?: string;
  crypto?: string;
  signature?: string;
  certificate?: string;
  [key: string]: unknown;
}

/** Why a message was not accepted; each is a counter name. */
export type RejectReason =
  | 'frames'
  | 'oversize'
  | 'not-json'
  | 'bad-shape'
  | 'topic-mismatch'
  | 'unknown-topic'
  | 'wrong-environment'
  | 'bad-signature'
  | 'field-too-long';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

/** The longest msg_id and topic accepted (see checkEnvelope). */
export const MAX_ID_LENGTH = 255;

/** 1 MiB: real fedmsg messages are a few KB (docs/ingest.md, "Limits under a flood"). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

function reject(reason: RejectReason, detail: string): { ok: false; reason: RejectReason; detail: string } {
  return { ok: false, reason, detail };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the shape every consumer relies on: topic, msg_id, timestamp, msg. */
export function checkEnvelope(value: unknown, frameTopic?: string): Checked<Envelope> {
  if (!isObject(value)) return reject('bad-shape', 'the envelope is not a JSON object');
  const { topic, msg_id: msgId, timestamp, msg } = value;
  if (typeof topic !== 'string' || topic === '') return reject('bad-shape', 'topic: expected a non-empty string');
  if (typeof msgId !== 'string' || msgId === '') return reject('bad-shape', 'msg_id: expected a non-empty string');
  // Real ids are a UUID, maybe with a year in front (41 characters); the id becomes the trigger
  // workflow's ID, which Temporal caps at 1,000 bytes, and an AMQP routing key (the topic) at 255.
  if (msgId.length > MAX_ID_LENGTH) return reject('bad-shape', `msg_id: longer than ${MAX_ID_LENGTH} characters`);
  if (topic.length > MAX_ID_LENGTH) return reject('bad-shape', `topic: longer than ${MAX_ID_LENGTH} characters`);
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return reject('bad-shape', 'timestamp: expected a number');
  if (!isObject(msg)) return reject('bad-shape', 'msg: expected an object');
  // fedmsg's consumers drop these too ("Topic envelope mismatch"): the frame is what we subscribed by.
  if (frameTopic !== undefined && frameTopic !== topic) {
    return reject('topic-mismatch', `frame topic '${truncate(frameTopic)}' differs from envelope topic '${truncate(topic)}'`);
  }
  return { ok: true, value: value as Envelope };
}

/**
 * Decodes the two ZeroMQ frames (topic, JSON envelope) of one fedmsg message. With `handlesTopic`, a
 * message whose topic frame it refuses is `unknown-topic` before its body is parsed: a subscription to
 * the whole bus (the default, '') brings mostly topics nobody here handles, and parsing them was the
 * larger part of deciding them. Its body is then never looked at, so such a message counts as
 * `unknown-topic` even when the body is not JSON or the envelope names another topic.
 */
export function decodeFrames(frames: readonly Buffer[], maxBytes = DEFAULT_MAX_MESSAGE_BYTES, handlesTopic?: (topic: string) => boolean): Checked<Envelope> {
  if (frames.length !== 2) return reject('frames', `expected 2 frames (topic, envelope), got ${frames.length}`);
  const [topicFrame, body] = frames as [Buffer, Buffer];
  if (body.length + topicFrame.length > maxBytes) {
    return reject('oversize', `${body.length + topicFrame.length} bytes exceeds the limit of ${maxBytes}`);
  }
  const topic = topicFrame.toString('utf8');
  if (handlesTopic && !handlesTopic(topic)) return reject('unknown-topic', `no JobTrigger for ${truncate(topic)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return reject('not-json', (error as Error).message);
  }
  return checkEnvelope(parsed, topic);
}

/**
 * A datagrepper `/raw` record as a bus envelope: datanommer adds `source_name`/`source_version` and a
 * null `headers`, and stores timestamps as floats (fedmsg's `fix_datagrepper_message`).
 */
export function normaliseDatagrepperRecord(record: Record<string, unknown>): Record<string, unknown> {
  if (record.source_name !== 'datanommer') return record;
  const copy: Record<string, unknown> = { ...record };
  delete copy.source_name;
  delete copy.source_version;
  if ('headers' in copy && (copy.headers === null || (isObject(copy.headers) && Object.keys(copy.headers).length === 0))) {
    delete copy.headers;
  }
  if (typeof copy.timestamp === 'number') copy.timestamp = Math.trunc(copy.timestamp);
  return copy;
}

/**
 * A message file as people have them: a bare envelope, a datagrepper record, a datagrepper page
 * (`raw_messages`), or a fedmsg_meta test sample without `msg_id`/`timestamp`. Returns the envelopes.
 */
export function envelopesFromJson(value: unknown): unknown[] {
  if (isObject(value) && Array.isArray(value.raw_messages)) return value.raw_messages.map((m) => (isObject(m) ? normaliseDatagrepperRecord(m) : m));
  if (Array.isArray(value)) return value.map((m) => (isObject(m) ? normaliseDatagrepperRecord(m) : m));
  return [isObject(value) ? normaliseDatagrepperRecord(value) : value];
}

/** A message read from a recording (datagrepper page, replay file) with the text its signature covers. */
export interface RecordedMessage {
  /** The envelope (datagrepper fields removed), for everything but the signature check. */
  envelope: unknown;
  /**
   * The record re-serialised with every number lexeme as received (`1504643044.0` stays so), for the
   * signature check: JSON.parse would make it `1504643044` and the signed text would no longer match.
   */
  signedText?: string;
}

function recorded(item: RawJson): RecordedMessage {
  const plain = plainJson(item);
  if (!isObject(plain)) return { envelope: plain };
  return { envelope: normaliseDatagrepperRecord(plain), signedText: pythonJsonDumps(item) };
}

/** envelopesFromJson over text, keeping what the signature needs. Throws SyntaxError on bad JSON. */
export function recordsFromText(text: string): RecordedMessage[] {
  const raw = parseJsonKeepingNumbers(text);
  const items = isObject(raw) && Array.isArray(raw.raw_messages) ? raw.raw_messages : Array.isArray(raw) ? raw : [raw];
  return (items as RawJson[]).map(recorded);
}

/** A datagrepper `/raw` page: its records (none when it has no `raw_messages`) and page count. */
export function datagrepperPage(text: string): { records: RecordedMessage[]; pages?: number } {
  const raw = parseJsonKeepingNumbers(text);
  if (!isObject(raw)) return { records: [] };
  const records = Array.isArray(raw.raw_messages) ? (raw.raw_messages as RawJson[]).map(recorded) : [];
  const pages = raw.pages instanceof JsonNumber ? Number(raw.pages.lexeme) : undefined;
  return { records, ...(pages !== undefined ? { pages } : {}) };
}

/** The environment segment of a fedmsg topic: `prod` in `org.fedoraproject.prod.buildsys.tag`. */
export function topicEnvironment(topic: string): string | undefined {
  return /^(?:org\.fedoraproject|io\.pagure)\.([a-z]+)\./.exec(topic)?.[1];
}

export function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
