// trigger_rules.yml (reference §2.4): a YAML list of rules, each `when` (MongoDB-style conditions on
// the trigger data) and `do` (tasks × arches, or discover). Loading validates the file against its
// schema (rules-schema.ts), checks by hand what a schema cannot say, and compiles it once into
// matchers, reporting every problem with file, line, column and path; evaluating a message against
// 50 rules then costs microseconds, not a YAML parse.
import { isSeq, parseDocument } from 'yaml';
import { formatPath, type Diagnostic } from '../formula/diagnostic.js';
import { parseLocatedYaml, type SourceMap } from '../formula/locate.js';
import { compileRuleRegex } from './rule-regex.js';
import { parseRuleTemplate, renderRuleTemplate, type RuleTemplate } from './rule-template.js';
import { RulesFileSchema, isMapping, ruleIssueDiagnostics } from './rules-schema.js';

export { compileRuleRegex } from './rule-regex.js';

/** A value from the rules file: a literal, or a string with `${var}` references rendered per message. */
export type RuleValue = { literal: unknown } | { template: RuleTemplate; source: string } | { list: RuleValue[] };

export type Matcher =
  | { op: 'eq' | 'ne'; value: RuleValue }
  | { op: 'in' | 'nin'; values: RuleValue }
  | { op: 'regex'; source: string; compiled?: RegExp; template?: RuleTemplate }
  | { op: 'exists'; value: boolean }
  | { op: 'and' | 'or' | 'nor'; items: Matcher[] }
  | { op: 'not'; item: Matcher }
  | { op: 'all'; items: Matcher[] };

export type Condition = { field: string; matcher: Matcher } | { op: 'and' | 'or' | 'nor'; branches: Condition[][] };

export interface TasksAction {
  kind: 'tasks';
  tasks: RuleValue[];
  arches?: string[];
}

export interface DiscoverAction {
  kind: 'discover';
  repo: RuleValue;
  branch?: RuleValue;
  fallbackBranch?: RuleValue;
  recursive: boolean;
  arches?: string[];
  matchHostArch: boolean;
}

export type RuleAction = TasksAction | DiscoverAction;

export interface TriggerRule {
  /** 0-based position in the file, as in paths (`[2].when.name`). */
  index: number;
  line: number;
  when: Condition[];
  do: RuleAction[];
}

export interface RuleSet {
  file: string;
  rules: TriggerRule[];
}

export interface LoadResult {
  value?: RuleSet;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** A rules file as the schema accepts it, before compiling. */
type Data = Record<string, unknown>;

/** What the schema cannot say, over the parsed data (whatever its shape): errors and warnings. */
function crossFieldChecks(data: unknown, file: string, map: SourceMap): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (severity: Diagnostic['severity'], at: { line: number; column: number }, path: PropertyKey[], message: string) =>
    out.push({ severity, file, ...at, path: formatPath(path), message });
  if (!Array.isArray(data)) return out;
  for (const [index, rule] of data.entries()) {
    if (!isMapping(rule)) continue;
    if (isMapping(rule.when) && Object.keys(rule.when).length === 0) {
      report('warning', map.value([index, 'when']), [index, 'when'], "empty 'when' matches every message");
    }
    if (!Array.isArray(rule.do)) continue;
    for (const [i, action] of rule.do.entries()) {
      if (!isMapping(action)) continue;
      const path = [index, 'do', i];
      const has = (key: string) => Object.hasOwn(action, key);
      if (has('tasks') && has('discover')) report('error', map.key([...path, 'discover']), [...path, 'discover'], "an action has 'tasks' or 'discover', not both");
      else if (!has('tasks') && !has('discover')) report('error', map.value(path), path, "an action needs 'tasks' or 'discover'");
      else if (has('tasks') && has('match_host_arch')) {
        report('warning', map.key([...path, 'match_host_arch']), [...path, 'match_host_arch'], "match_host_arch only applies to 'discover'");
      }
    }
  }
  return out;
}

/** Validated data → matchers: no checks left here, the schema and crossFieldChecks made them. */
function compileValue(value: unknown): RuleValue {
  if (typeof value === 'string') {
    const template = parseRuleTemplate(value);
    return template ? { template, source: value } : { literal: value };
  }
  if (Array.isArray(value)) {
    const items = value.map(compileValue);
    // Mostly literal lists: keep them as one literal so evaluation renders nothing.
    return items.every((v) => 'literal' in v) ? { literal: items.map((v) => (v as { literal: unknown }).literal) } : { list: items };
  }
  return { literal: value };
}

function compileMatcher(condition: unknown): Matcher {
  if (!isMapping(condition)) return { op: 'eq', value: compileValue(condition) };
  const items = Object.entries(condition).map(([key, value]): Matcher => {
    switch (key) {
      case '$in':
      case '$nin':
        return { op: key === '$in' ? 'in' : 'nin', values: compileValue(value) };
      case '$regex': {
        const template = parseRuleTemplate(value as string);
        if (template && template.parts.some((p) => 'ref' in p)) return { op: 'regex', source: value as string, template };
        const source = template ? String(renderRuleTemplate(template, {})) : (value as string);
        return { op: 'regex', source, compiled: compileRuleRegex(source) };
      }
      case '$and':
      case '$or':
      case '$nor':
        return { op: key.slice(1) as 'and' | 'or' | 'nor', items: (value as unknown[]).map(compileMatcher) };
      case '$not':
        return { op: 'not', item: compileMatcher(value) };
      case '$eq':
      case '$ne':
        return { op: key === '$eq' ? 'eq' : 'ne', value: compileValue(value) };
      case '$exists':
        return { op: 'exists', value: value as boolean };
      default: // $all
        return { op: 'all', items: (value as unknown[]).map((x) => ({ op: 'eq', value: { literal: x } })) };
    }
  });
  return items.length === 1 ? items[0]! : { op: 'all', items };
}

function compileWhen(when: Data): Condition[] {
  return Object.entries(when).map(([key, value]): Condition =>
    key === '$and' || key === '$or' || key === '$nor'
      ? { op: key.slice(1) as 'and' | 'or' | 'nor', branches: (value as Data[]).map(compileWhen) }
      : { field: key, matcher: compileMatcher(value) },
  );
}

function compileAction(action: Data): RuleAction {
  const arches = action.arches as string[] | undefined;
  if (action.tasks) return { kind: 'tasks', tasks: (action.tasks as string[]).map(compileValue), ...(arches ? { arches } : {}) };
  const discover = action.discover as Data;
  return {
    kind: 'discover',
    repo: compileValue(discover.repo),
    ...(discover.branch !== undefined ? { branch: compileValue(discover.branch) } : {}),
    ...(discover.fallback_branch !== undefined ? { fallbackBranch: compileValue(discover.fallback_branch) } : {}),
    recursive: discover.recursive === true,
    ...(arches ? { arches } : {}),
    matchHostArch: action.match_host_arch === true,
  };
}

/** Compiles rules text; `value` is set only when there are no errors. */
export function loadRules(text: string, file: string): LoadResult {
  // PyYAML, which read these files, speaks YAML 1.1. YAML's own warnings were never reported here.
  const { doc, map, errors: yamlErrors } = parseLocatedYaml(text, file, { version: '1.1' });
  if (yamlErrors.length > 0) return { errors: yamlErrors, warnings: [] };
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    return { value: { file, rules: [] }, errors: [], warnings: [{ severity: 'warning', file, ...map.value([]), path: '', message: 'the rules file is empty: no message will start a job' }] };
  }
  const parsed = RulesFileSchema.safeParse(data);
  const diagnostics = [...(parsed.success ? [] : ruleIssueDiagnostics(parsed.error.issues, { file, map, data })), ...crossFieldChecks(data, file, map)];
  // In the order of the file, as one reads it.
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  if (errors.length > 0 || !parsed.success) return { errors, warnings };
  const rules = (parsed.data as Data[]).map((rule, index): TriggerRule => ({
    index,
    line: map.value([index]).line,
    when: compileWhen(rule.when as Data),
    do: (rule.do as Data[]).map(compileAction),
  }));
  return { value: { file, rules }, errors: [], warnings };
}

/** `trigger_rules.yml`, `trigger_rules.yml.prod`, `ci.rules.yaml`: what `taskotron validate` treats as rules. */
export function isTriggerRulesFileName(file: string): boolean {
  const base = file.split(/[\\/]/).pop() ?? file;
  return /trigger[_-]?rules.*\.ya?ml(?:\.[a-z]+)?$/i.test(base) || /\.rules\.ya?ml$/i.test(base);
}

/** A rules file is a YAML sequence at the top; a formula is a mapping. Used by `taskotron validate`. */
export function looksLikeTriggerRules(text: string): boolean {
  try {
    const doc = parseDocument(text, { version: '1.1' });
    return isSeq(doc.contents);
  } catch {
    return false;
  }
}
