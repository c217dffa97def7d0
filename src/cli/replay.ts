// `taskotron replay`: feed recorded messages through ingest's decision path and start what they
// match, from a JSON-lines file or a datagrepper time range. Workflow IDs come from msg_id, so a
// replay over messages that already ran starts nothing twice.
//
// This module is its options; the replay itself (replay-run.ts: the ingest's decision path, the
// Temporal client) is loaded once they have been parsed.
import type { Command } from 'commander';
import type { IngestCliOptions } from './ingest.js';
import { addTemporalOptions } from './option-defs.js';

export interface ReplayOptions extends IngestCliOptions {
  start?: string;
  end?: string;
}

export function registerReplay(program: Command): void {
  addTemporalOptions(
    program
      .command('replay')
      .argument('[file]', 'JSON lines of envelopes or datagrepper records')
      .option('--rules <file>', 'trigger_rules.yml')
      .option('--arches <list>', 'valid arches for rules that name none')
      .option('--datagrepper <url>', 'datagrepper /raw URL to read the messages from')
      .option('--start <time>', 'with --datagrepper: from (Unix seconds or ISO date)')
      .option('--end <time>', 'with --datagrepper: until (default now)')
      .option('--topic <prefix>', 'only topics with this prefix (repeatable)', (v: string, p: string[] = []) => [...p, v])
      .option('--task-repo <template>', "where a task lives: '${task}' is replaced")
      .option('--trigger-queue <queue>', 'task queue of trigger workflows (default: the runner workers\' workflow queue)')
      .option('--ingest-queue <queue>', 'task queue of the ingest\'s activities (default "ingest")')
      .option('--job-queue <queue>', 'task queue of job workflows (default: the runner workers\' workflow queue)')
      // The same checks as `taskotron ingest`: a message fedmsg would refuse on the bus is refused when replayed.
      .option('--validate-signatures', 'drop messages whose X.509 signature does not verify (or [fedmsg] validate_signatures)')
      .option('--ca <file-or-url>', 'CA certificate(s), PEM, for --validate-signatures: a file or an https:// URL')
      .option('--crl <file-or-url>', 'certificate revocation list, PEM or DER: a file or a URL'),
  ).action(async (file: string | undefined, options: ReplayOptions) => (await import('./replay-run.js')).runReplay(file, options));
}
