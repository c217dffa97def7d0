// Matching trigger data against compiled rules, with MongoDB semantics (what mongoquery, the likely
// original engine, implements): a missing field equals only null, `$nin` holds for a missing field,
// a list-valued field matches when any element does. The same code answers `rules explain`: pass a
// `why` array and each decision leaves a sentence in it; the hot path passes none and builds none.
import { renderRuleTemplate } from './rule-template.js';
import { compileRuleRegex, type Condition, type Matcher, type RuleAction, type RuleSet, type RuleValue, type TriggerRule } from './rules.js';

export type Data = Readonly<Record<string, unknown>>;

/** Lists with no `${…}` in them, resolved once: `$in: [a, b, c]` is the same list for every message. */
const constantLists = new WeakMap<RuleValue, unknown[] | null>();

function isConstant(value: RuleValue): boolean {
  if ('literal' in value) return true;
  if ('list' in value) return value.list.every(isConstant);
  return false;
}

function resolve(value: RuleValue, data: Data): unknown {
  if ('literal' in value) return value.literal;
  if ('list' in value) {
    let constant = constantLists.get(value);
    if (constant === undefined) {
      constant = isConstant(value) ? value.list.map((item) => resolve(item, data)) : null;
      constantLists.set(value, constant);
    }
    if (constant) return constant;
    const out = new Array<unknown>(value.list.length);
    for (let i = 0; i < value.list.length; i++) out[i] = resolve(value.list[i]!, data);
    return out;
  }
  return renderRuleTemplate(value.template, data);
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  if (Array.isArray(value)) {
    const head = value.slice(0, 6).map((v) => show(v));
    return `[${head.join(', ')}${value.length > 6 ? `, … ${value.length - 6} more` : ''}]`;
  }
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

// The matchers below run for every message against every candidate rule: plain loops, no callbacks,
// so deciding allocates nothing beyond what a rule's own templates render.
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
  return true;
}

/** Field value vs one expected value: a list field matches when it equals or contains it. */
function fieldEquals(field: unknown, expected: unknown): boolean {
  if (field === expected) return true;
  // Trigger data is mostly strings: a string (number, boolean) equals only itself.
  if (typeof field !== 'object') return field === undefined && expected === null;
  if (equal(field, expected)) return true;
  if (!Array.isArray(field)) return false;
  for (const item of field) if (equal(item, expected)) return true;
  return false;
}

function someFieldEquals(field: unknown, list: readonly unknown[]): boolean {
  if (typeof field === 'string') {
    for (let i = 0; i < list.length; i++) if (list[i] === field) return true;
    return false;
  }
  for (const expected of list) if (fieldEquals(field, expected)) return true;
  return false;
}

function regexMatchesField(regex: RegExp, field: unknown): boolean {
  if (typeof field === 'string') return regex.test(field);
  if (!Array.isArray(field)) return false;
  for (const v of field) if (typeof v === 'string' && regex.test(v)) return true;
  return false;
}

const regexCache = new Map<string, RegExp | Error>();

function dynamicRegex(source: string): RegExp | Error {
  let found = regexCache.get(source);
  if (!found) {
    try {
      found = compileRuleRegex(source);
    } catch (error) {
      found = error as Error;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, found);
  }
  return found;
}

export function matches(matcher: Matcher, field: unknown, data: Data, why?: string[]): boolean {
  switch (matcher.op) {
    case 'eq':
    case 'ne': {
      const expected = resolve(matcher.value, data);
      const same = fieldEquals(field, expected);
      const ok = matcher.op === 'eq' ? same : !same;
      why?.push(`${show(field)} ${same ? '=' : '≠'} ${show(expected)}`);
      return ok;
    }
    case 'in':
    case 'nin': {
      const list = resolve(matcher.values, data);
      if (!Array.isArray(list)) {
        why?.push(`$${matcher.op} ${show(list)} is not a list`);
        return false;
      }
      const found = someFieldEquals(field, list);
      why?.push(`${show(field)} is ${found ? '' : 'not '}in ${show(list)}`);
      return matcher.op === 'in' ? found : !found;
    }
    case 'regex': {
      const source = matcher.template ? String(renderRuleTemplate(matcher.template, data)) : matcher.source;
      const regex = matcher.compiled ?? dynamicRegex(source);
      if (regex instanceof Error) {
        why?.push(`$regex ${source} is invalid: ${regex.message}`);
        return false;
      }
      const ok = regexMatchesField(regex, field);
      why?.push(`${show(field)} ${ok ? 'matches' : 'does not match'} ${source}`);
      return ok;
    }
    case 'exists': {
      const present = field !== undefined;
      why?.push(present ? 'is present' : 'is missing');
      return present === matcher.value;
    }
    case 'not': {
      const inner: string[] | undefined = why ? [] : undefined;
      const ok = !matches(matcher.item, field, data, inner);
      why?.push(`not (${inner?.join('; ')})`);
      return ok;
    }
    case 'all':
    case 'and': {
      for (const item of matcher.items) if (!matches(item, field, data, why)) return false;
      return true;
    }
    case 'or':
    case 'nor': {
      const inner: string[] | undefined = why ? [] : undefined;
      let any = false;
      for (const item of matcher.items) {
        if (matches(item, field, data, inner)) {
          any = true;
          break;
        }
      }
      why?.push(`${matcher.op === 'nor' ? 'none' : 'one'} of (${inner?.join(' | ')})${any === (matcher.op === 'or') ? '' : ' fails'}`);
      return matcher.op === 'or' ? any : !any;
    }
  }
}

function branchHolds(branch: readonly Condition[], data: Data, why?: string[]): boolean {
  for (const condition of branch) if (!conditionHolds(condition, data, why)) return false;
  return true;
}

function conditionHolds(condition: Condition, data: Data, why?: string[]): boolean {
  if ('field' in condition) {
    const inner: string[] | undefined = why ? [] : undefined;
    const ok = matches(condition.matcher, data[condition.field], data, inner);
    why?.push(`${condition.field}: ${inner?.join('; ')}`);
    return ok;
  }
  const inner: string[] | undefined = why ? [] : undefined;
  let ok: boolean;
  if (condition.op === 'and') {
    ok = true;
    for (const branch of condition.branches) {
      if (!branchHolds(branch, data, inner)) {
        ok = false;
        break;
      }
    }
  } else {
    let any = false;
    for (const branch of condition.branches) {
      if (branchHolds(branch, data, inner)) {
        any = true;
        break;
      }
    }
    ok = condition.op === 'or' ? any : !any;
  }
  why?.push(`$${condition.op}(${inner?.join(', ')})`);
  return ok;
}

/** Whether every condition holds (no explanation). */
function conditionsHold(conditions: readonly Condition[], data: Data): boolean {
  for (const condition of conditions) if (!conditionHolds(condition, data)) return false;
  return true;
}

/** Whether a rule fires; with `explain`, the reason: the first failing condition, or all that held. */
export function evaluateRule(rule: TriggerRule, data: Data, explain: true): { matched: boolean; reason: string };
export function evaluateRule(rule: TriggerRule, data: Data, explain?: false): { matched: boolean; reason?: string };
export function evaluateRule(rule: TriggerRule, data: Data, explain = false): { matched: boolean; reason?: string } {
  if (!explain) return { matched: rule.when.every((c) => conditionHolds(c, data)) };
  const held: string[] = [];
  for (const condition of rule.when) {
    const why: string[] = [];
    if (!conditionHolds(condition, data, why)) return { matched: false, reason: why.join('; ') };
    held.push(...why);
  }
  return { matched: true, reason: held.length > 0 ? held.join('; ') : 'no conditions: matches every message' };
}

/** One job to start: a task on an arch (`noarch`: one arch-independent job). */
export interface PlannedTask {
  task: string;
  arch: string;
  /** The rule that asked for it (first one, when several did). */
  rule: number;
}

/** A repository to search for task formulas at trigger time (the trigger workflow's discover activity). */
export interface PlannedDiscover {
  repo: string;
  branch?: string;
  fallbackBranch?: string;
  recursive: boolean;
  arches: string[];
  matchHostArch: boolean;
  rule: number;
}

export interface Plan {
  /** Each rule's verdict; filled only when asked to explain. */
  rules: Array<{ index: number; matched: boolean; reason?: string }>;
  tasks: PlannedTask[];
  discover: PlannedDiscover[];
}

const archLists = new WeakMap<RuleAction, { validArches: readonly string[]; list: readonly string[] }>();

/** An action's arches (the valid ones when it names none), worked out once per action. */
function archList(action: RuleAction, validArches: readonly string[]): readonly string[] {
  const cached = archLists.get(action);
  if (cached && cached.validArches === validArches) return cached.list;
  const list = action.arches ?? [...validArches];
  const result = Object.freeze(list.includes('noarch') ? ['noarch'] : [...new Set(list)]);
  archLists.set(action, { validArches, list: result });
  return result;
}

/** The `message_type` values a matcher can accept, when it names them as literals (`eq`, `$in`). */
function literalTypes(matcher: Matcher): Set<string> | undefined {
  if (matcher.op === 'eq' && 'literal' in matcher.value) {
    return typeof matcher.value.literal === 'string' ? new Set([matcher.value.literal]) : undefined;
  }
  if (matcher.op === 'in' && 'list' in matcher.values && matcher.values.list.every((v) => 'literal' in v)) {
    // message_type is always a string, and a string equals only a string.
    return new Set(matcher.values.list.flatMap((v) => ('literal' in v && typeof v.literal === 'string' ? [v.literal] : [])));
  }
  return undefined;
}

/**
 * The message types a conjunction of conditions can match at all, or undefined when it does not
 * narrow them: `message_type: X`, `message_type: {$in: [X, Y]}`, and `$or` whose every branch
 * narrows (the compose rules' `$or: [{message_type: CloudCompose}, {message_type: AtomicCompose}]`).
 */
function requiredMessageTypes(conditions: readonly Condition[]): Set<string> | undefined {
  for (const condition of conditions) {
    if ('field' in condition) {
      if (condition.field !== 'message_type') continue;
      const types = literalTypes(condition.matcher);
      if (types) return types;
      continue;
    }
    if (condition.op !== 'or' && condition.op !== 'and') continue;
    const perBranch = condition.branches.map(requiredMessageTypes);
    if (condition.op === 'and') {
      const narrowing = perBranch.find((types) => types !== undefined);
      if (narrowing) return narrowing;
    } else if (perBranch.length > 0 && perBranch.every((types) => types !== undefined)) {
      return new Set(perBranch.flatMap((types) => [...types!]));
    }
  }
  return undefined;
}

/** A rule that can match a message type, with the conditions left to check for that type. */
interface Candidate {
  rule: TriggerRule;
  /** `when` without its top-level `message_type` conditions that the type itself satisfies. */
  rest: readonly Condition[];
}

const candidatesByRuleSet = new WeakMap<RuleSet, Map<string, Candidate[]>>();

/**
 * The rules that can match a message of this type, in file order: nearly every real rule starts
 * with `message_type: X` (or an `$in`/`$or` of types), so a message meets a handful of rules
 * instead of all fifty, and that first condition, settled by the type, is not evaluated again.
 */
function candidateRules(ruleSet: RuleSet, messageType: string): readonly Candidate[] {
  let byType = candidatesByRuleSet.get(ruleSet);
  if (!byType) {
    byType = new Map();
    candidatesByRuleSet.set(ruleSet, byType);
  }
  let list = byType.get(messageType);
  if (!list) {
    list = [];
    for (const rule of ruleSet.rules) {
      const required = requiredMessageTypes(rule.when);
      if (required !== undefined && !required.has(messageType)) continue;
      const rest = rule.when.filter((c) => !('field' in c && c.field === 'message_type' && literalTypes(c.matcher)?.has(messageType)));
      list.push({ rule, rest });
    }
    byType.set(messageType, list);
  }
  return list;
}

/** Whether the task is already planned on the arch: a scan, as a plan holds a handful of jobs. */
function planned(tasks: readonly PlannedTask[], task: string, arch: string): boolean {
  for (const t of tasks) if (t.task === task && t.arch === arch) return true;
  return false;
}

/**
 * Every rule whose `when` holds fires; tasks × arches are collected once each (two rules asking for
 * the same task on the same arch give one job, since job IDs are built from msg_id + task + arch).
 */
export function planJobs(ruleSet: RuleSet, data: Data, options: { validArches: readonly string[]; explain?: boolean }): Plan {
  const plan: Plan = { rules: [], tasks: [], discover: [] };
  // Explaining reports on every rule; deciding only needs the rules this message type can match.
  const type = data.message_type;
  const candidates = options.explain || typeof type !== 'string' ? ruleSet.rules.map((rule) => ({ rule, rest: rule.when })) : candidateRules(ruleSet, type);
  for (const { rule, rest } of candidates) {
    let matched: boolean;
    if (options.explain) {
      const verdict = evaluateRule(rule, data, true);
      plan.rules.push({ index: rule.index, ...verdict });
      matched = verdict.matched;
    } else {
      // The hot path: no verdict objects, no reasons.
      matched = conditionsHold(rest, data);
    }
    if (!matched) continue;
    for (const action of rule.do) {
      const arches = archList(action, options.validArches);
      if (action.kind === 'tasks') {
        for (const value of action.tasks) {
          const task = String(resolve(value, data));
          for (const arch of arches) {
            if (!planned(plan.tasks, task, arch)) plan.tasks.push({ task, arch, rule: rule.index });
          }
        }
      } else {
        const text = (value: RuleValue | undefined) => (value === undefined ? undefined : String(resolve(value, data)));
        const branch = text(action.branch);
        const fallbackBranch = text(action.fallbackBranch);
        plan.discover.push({
          repo: text(action.repo)!,
          ...(branch ? { branch } : {}),
          ...(fallbackBranch ? { fallbackBranch } : {}),
          recursive: action.recursive,
          arches: [...arches],
          matchHostArch: action.matchHostArch,
          rule: rule.index,
        });
      }
    }
  }
  return plan;
}
