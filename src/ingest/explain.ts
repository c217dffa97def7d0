// `taskotron rules explain`: what ingest would decide for one message, and why. Shares every step
// with the live path (JobTriggers, planJobs) so the answer is the one production gives.
import { envelopesFromJson, type Envelope } from '../bus/envelope.js';
import { deriveTriggerData, type TriggerContext, type TriggerData } from './job-triggers.js';
import { planJobs } from './evaluate.js';
import type { RuleSet } from './rules.js';

export interface Explanation {
  data: TriggerData | null;
  rules: Array<{ index: number; matched: boolean; reason: string }>;
  jobs: Array<{ task: string; arch: string; item: string; item_type: string }>;
}

/** Why there is no data dict, when there is none. */
export interface ExplainResult {
  explanation: Explanation;
  note?: string;
  lines: Map<number, number>;
}

export function explainMessage(message: unknown, rules: RuleSet, options: { validArches: readonly string[]; context?: TriggerContext }): ExplainResult {
  const [first] = envelopesFromJson(message);
  const lines = new Map(rules.rules.map((r) => [r.index, r.line]));
  const envelope = first as Partial<Envelope> | undefined;
  if (!envelope || typeof envelope.topic !== 'string' || typeof envelope.msg !== 'object' || envelope.msg === null) {
    return { explanation: { data: null, rules: [], jobs: [] }, note: 'not a fedmsg message: needs "topic" and "msg"', lines };
  }
  const outcome = deriveTriggerData({ msg_id: '', timestamp: 0, ...envelope } as Envelope, options.context);
  if (!outcome) return { explanation: { data: null, rules: [], jobs: [] }, note: `no JobTrigger handles topic ${envelope.topic}`, lines };
  if ('ignored' in outcome) return { explanation: { data: null, rules: [], jobs: [] }, note: `the JobTrigger ignores it: ${outcome.ignored}`, lines };
  const { data } = outcome;
  const plan = planJobs(rules, data, { validArches: options.validArches, explain: true });
  const jobs = plan.tasks.map((t) => ({ task: t.task, arch: t.arch, item: data.item, item_type: data.item_type }));
  for (const d of plan.discover) {
    // Which formulas a repository holds is known only after cloning it, at trigger time.
    for (const arch of d.arches) jobs.push({ task: `discover:${d.repo}#${d.branch ?? d.fallbackBranch ?? 'HEAD'}`, arch, item: data.item, item_type: data.item_type });
  }
  return {
    explanation: { data, rules: plan.rules.map((r) => ({ index: r.index, matched: r.matched, reason: r.reason ?? '' })), jobs },
    lines,
  };
}

export function formatExplanation(result: ExplainResult): string {
  const { explanation, note } = result;
  const out: string[] = [];
  if (!explanation.data) {
    out.push(`no trigger data: ${note ?? 'unknown'}`, 'no jobs would start');
    return out.join('\n');
  }
  out.push('data:');
  for (const [key, value] of Object.entries(explanation.data)) out.push(`  ${key}: ${JSON.stringify(value)}`);
  out.push('rules:');
  for (const rule of explanation.rules) {
    out.push(`  [${rule.index}] line ${result.lines.get(rule.index) ?? '?'}: ${rule.matched ? 'MATCHED' : 'no match'}: ${rule.reason}`);
  }
  if (explanation.jobs.length === 0) out.push('jobs: none would start');
  else {
    out.push('jobs:');
    for (const job of explanation.jobs) out.push(`  ${job.task} on ${job.arch} for ${job.item} (${job.item_type})`);
  }
  return out.join('\n');
}
