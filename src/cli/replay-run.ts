// `taskotron replay`'s run (its options: replay.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { installRuntimeLogger } from '../worker/logging.js';
import { connectionOptions } from '../config/temporal.js';
import { datagrepperMessages } from '../ingest/datagrepper.js';
import { recordsFromText, type RecordedMessage } from '../bus/envelope.js';
import { RulesLoadError } from '../ingest/live-rules.js';
import { IngestService } from '../ingest/service.js';
import { stderrLogger } from '../ingest/stats.js';
import { ingestConfigFromOptions, openSignatureChecker } from './ingest-run.js';
import { temporalSettingsFromOptions } from './options.js';
import type { ReplayOptions } from './replay.js';

/** Unix seconds from `1504643021`, `1504643021.5` or an ISO date. */
export function parseTime(value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`not a time: '${value}' (give Unix seconds or an ISO date)`);
  return ms / 1000;
}

/**
 * Each line a JSON envelope or datagrepper record; a whole JSON document (e.g. a /raw page) also
 * works. Parsed keeping number lexemes, so signed messages verify as they did on the bus.
 */
export function readMessagesFile(file: string): RecordedMessage[] {
  const text = readFileSync(file, 'utf8');
  try {
    return recordsFromText(text);
  } catch {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line, i) => {
        try {
          return recordsFromText(line);
        } catch {
          return [{ envelope: { unparsable: `${file}:${i + 1}` } }];
        }
      });
  }
}

/** Replays FILE, or the datagrepper range of the options, through ingest's decision path. */
export async function runReplay(file: string | undefined, options: ReplayOptions): Promise<void> {
  installRuntimeLogger('WARN');
  if (!file && !(options.datagrepper && options.start)) {
    console.error('taskotron replay: give a FILE, or --datagrepper URL --start T [--end T]');
    process.exitCode = 2;
    return;
  }
  const log = stderrLogger('info');
  const temporal = temporalSettingsFromOptions(options);
  // Replay does not spool: if Temporal is down, say so now.
  const probe = await Connection.connect({ ...connectionOptions(temporal), connectTimeout: 5000 }).catch((error: Error) => error);
  if (probe instanceof Error) {
    console.error(`taskotron replay: Temporal at ${temporal.address} does not answer: ${probe.message}`);
    process.exitCode = 1;
    return;
  }
  await probe.close();
  const config = { ...ingestConfigFromOptions({ ...options, datagrepper: undefined }), connect: [], bind: [] };
  const stateDir = mkdtempSync(join(tmpdir(), 'taskotron-replay-'));
  let service: IngestService;
  let signatures: Awaited<ReturnType<typeof openSignatureChecker>> | undefined;
  try {
    signatures = config.validateSignatures ? await openSignatureChecker(config, stateDir, log) : undefined;
    service = await IngestService.start({ config, temporal, stateDir, log, worker: false, ...(signatures ? { verify: signatures.verify } : {}) });
  } catch (error) {
    signatures?.close();
    rmSync(stateDir, { recursive: true, force: true });
    if (error instanceof RulesLoadError) {
      for (const line of error.diagnostics) console.error(line);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  try {
    const topicOk = (envelope: unknown) => {
      const topic = (envelope as { topic?: unknown })?.topic;
      return !options.topic || (typeof topic === 'string' && options.topic.some((p) => topic.startsWith(p)));
    };
    if (file) {
      const records = readMessagesFile(file);
      const oldest = records.reduce((min, r) => {
        const t = (r.envelope as { timestamp?: unknown })?.timestamp;
        return typeof t === 'number' && t < min ? t : min;
      }, Infinity);
      if (Number.isFinite(oldest)) await service.warnBeyondRetention(oldest, `the replay of ${file}`);
      for (const { envelope, signedText } of records) if (topicOk(envelope)) service.ingestEnvelope(envelope, signedText);
    } else {
      const start = parseTime(options.start!);
      const end = options.end ? parseTime(options.end) : Date.now() / 1000;
      await service.warnBeyondRetention(start, 'the replay');
      for await (const { envelope, signedText } of datagrepperMessages(options.datagrepper!, { start, end, ratePerSecond: config.backfillRate })) {
        if (topicOk(envelope)) service.ingestEnvelope(envelope, signedText);
      }
    }
    await service.starter.idle();
    const stats = service.stats();
    console.log(JSON.stringify({ ...stats, ...signatures?.counters() }));
    // Refused starts were logged above; replay keeps no state, so they are its failure.
    if (stats['start-refused']) process.exitCode = 1;
  } finally {
    await service.stop();
    signatures?.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
