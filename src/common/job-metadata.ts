// What a job's page in the Temporal Web UI says about it (user metadata, reference/temporal.md §8.5):
// a one-line summary and static details fixed at start — what the job is and where it came from —
// and current details the workflow rewrites as it runs and, at the end, to how it ended. Pure text
// builders: the trigger workflow, the job workflow, `runtask` and `taskotron jobs run` all use them,
// so every job's page reads the same however it was started.
import type { ActionRecord, JobInput, JobResult, Outcome } from './job.js';

/** How a job came to run, for the "started by" line. */
export type JobOrigin =
  | { kind: 'message'; messageType?: string; msgId?: string }
  | { kind: 'forced'; by: string }
  | { kind: 'runtask'; by: string };

/** The server keeps details up to 20 kB (UI docs); stay well below it. */
const MAX_DETAILS = 16_000;
const LOG_TAIL_LINES = 15;

/** `**rpmlint** on koji_build foo-1.0-1.fc40 (x86_64)`: one line, what the UI's header shows. */
export function jobSummary(job: Pick<JobInput, 'task' | 'item' | 'itemType' | 'arch'>): string {
  return `**${inline(job.task)}** on ${inline(job.itemType)} \`${code(job.item)}\` (${inline(job.arch)})`;
}

/** Fixed at start: what the job is, who started it, where its task comes from. */
export function jobStartDetails(input: JobInput, origin: JobOrigin): string {
  const lines = [
    `Task **${inline(input.task)}** on ${inline(input.itemType)} \`${code(input.item)}\`, arch ${inline(input.arch)}.`,
    '',
    `- Started by: ${describeOrigin(origin)}`,
    `- Task source: ${describeSource(input)}`,
    `- Job uuid: \`${code(input.uuid)}\` (artifacts directory name, ResultsDB group)`,
  ];
  return clip(lines.join('\n'));
}

/** The end of the story, for `setCurrentDetails`: outcome first, then why, results, logs and links. */
export function jobEndDetails(result: JobResult): string {
  const lines = [`## ${outcomeBadge(result.outcome)}`];
  if (result.reason) lines.push('', `Reason: ${inline(result.reason)}`);
  if (result.summary && result.summary !== result.outcome) lines.push('', `Results: ${inline(result.summary)}`);
  if (result.results.length > 0) {
    lines.push('');
    for (const r of result.results.slice(0, 50)) {
      lines.push(`- ${r.outcome} ${inline(r.testcase)}${r.note ? ` — ${inline(r.note)}` : ''}${r.refUrl ? ` ([log](${r.refUrl}))` : ''}`);
    }
    if (result.results.length > 50) lines.push(`- … and ${result.results.length - 50} more`);
  }
  if (result.actions.length > 0) {
    lines.push('', '| # | action | status | time | log |', '|---|---|---|---|---|');
    for (const action of result.actions) lines.push(actionRow(action, result));
  }
  if (result.logTail) {
    const tail = result.logTail.split('\n').slice(-LOG_TAIL_LINES).join('\n');
    lines.push('', 'Last log lines:', '```', tail.replaceAll('```', "'''"), '```');
  }
  const where: string[] = [];
  if (result.host) where.push(`host ${inline(result.host)}`);
  if (result.artifacts) where.push(`artifacts ${location(result.artifacts.host, result.artifacts.dir)}`);
  if (result.commit) where.push(`task commit \`${code(result.commit.slice(0, 12))}\``);
  if (where.length > 0) lines.push('', where.join(' · '));
  return clip(lines.join('\n'));
}

/**
 * The word an operator scans for. Plain text, no emoji: a server without emoji fonts (or a
 * headless browser) draws them as empty boxes.
 */
export function outcomeBadge(outcome: Outcome): string {
  return outcome === 'PASSED' || outcome === 'INFO' ? `Outcome: ${outcome}` : `Outcome: ${outcome} (not a success)`;
}

function actionRow(action: ActionRecord, result: JobResult): string {
  const time = action.durationMs !== undefined ? `${(action.durationMs / 1000).toFixed(1)} s` : '';
  const log = action.log ? location(result.artifacts?.host, action.log) : '';
  return `| ${action.index} | ${cell(action.name)} (${action.directive}) | ${action.status} | ${time} | ${log} |`;
}

function describeOrigin(origin: JobOrigin): string {
  switch (origin.kind) {
    case 'message':
      return `message ${origin.messageType ? inline(origin.messageType) : ''}${origin.msgId ? ` \`${code(origin.msgId)}\`` : ''}`.trim();
    case 'forced':
      return `\`taskotron jobs run\` (forced by ${inline(origin.by)})`;
    case 'runtask':
      return `\`runtask\` (${inline(origin.by)})`;
  }
}

function describeSource(input: JobInput): string {
  const formula = input.formula ? `, formula \`${code(input.formula)}\`` : '';
  if (input.source.kind === 'local') return `local directory \`${code(input.source.path)}\`${formula}`;
  const repo = isWebUrl(input.source.repo) ? `[${inline(input.source.repo)}](${input.source.repo})` : `\`${code(input.source.repo)}\``;
  return `${repo} at \`${code(input.source.ref)}\`${formula}`;
}

/** A link when it is one (artifacts served over HTTP), else `host:path`. */
function location(host: string | undefined, target: string): string {
  if (isWebUrl(target)) return `[${target.split('/').pop() || target}](${target})`;
  return `\`${code(host ? `${host}:${target}` : target)}\``;
}

function isWebUrl(text: string): boolean {
  return /^https?:\/\/[^\s()]+$/.test(text);
}

/** Message data is untrusted: keep it from becoming Markdown structure. */
function inline(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

function code(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replaceAll('`', "'");
}

function cell(text: string): string {
  return inline(text);
}

function clip(text: string): string {
  return text.length <= MAX_DETAILS ? text : `${text.slice(0, MAX_DETAILS)}\n\n… (cut at ${MAX_DETAILS} characters)`;
}
