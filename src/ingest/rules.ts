// trigger_rules.yml (reference §2.4): a YAML list of rules, each `when` (MongoDB-style conditions on
// the trigger data) and `do` (tasks × arches, or discover). Loading compiles the file once into
// matchers, reporting every problem with file, line, column and path; evaluating a message against
// 50 rules then costs microseconds, not a YAML parse.
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { formatPath, type Diagnostic } from '../formula/diagnostic.js';
import { parseRuleTemplate, renderRuleTemplate, type RuleTemplate } from './rule-template.js';

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

const OPERATORS = ['$in', '$nin', '$regex', '$and', '$or', '$nor', '$not', '$eq', '$ne', '$exists', '$all'];
const RULE_KEYS = ['when', 'do'];
const ACTION_KEYS = ['tasks', 'discover', 'arches', 'match_host_arch'];
const DISCOVER_KEYS = ['repo', 'branch', 'fallback_branch', 'recursive'];

/**
 * Python's `re` → JavaScript RegExp for the syntax rules use: named groups `(?P<n>…)`/`(?P=n)`,
 * `\A`, `\Z`. The `/pattern/flags` wrapper is MongoDB's (mongoquery), flags from `imsx`.
 */
export function compileRuleRegex(text: string): RegExp {
  const m = /^\/([\s\S]*)\/([imsx]*)$/.exec(text);
  if (!m) throw new Error(`expected '/pattern/' (slash-delimited, optional flags imsx), got '${text}'`);
  const [, pattern, flags] = m as unknown as [string, string, string];
  if (flags.includes('x')) throw new Error("the verbose flag 'x' is not supported");
  const js = pattern
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$(?![\\s\\S])');
  return new RegExp(js, flags);
}

class Compiler {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  report(severity: 'error' | 'warning', node: Node | null | undefined, path: readonly PropertyKey[], message: string): void {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    (severity === 'error' ? this.errors : this.warnings).push({ severity, file: this.file, line, column: col, path: formatPath(path), message });
  }

  pairs(map: YAMLMap): Array<{ key: string; keyNode: Node; value: Node | null; pair: Pair }> {
    return map.items.map((pair) => {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      return { key, keyNode, value: (pair.value as Node | null) ?? null, pair };
    });
  }

  value(node: Node | null, path: PropertyKey[]): RuleValue | undefined {
    if (node === null) return { literal: null };
    if (isScalar(node)) {
      if (typeof node.value === 'string') {
        const template = parseRuleTemplate(node.value);
        return template ? { template, source: node.value } : { literal: node.value };
      }
      return { literal: node.value };
    }
    if (isSeq(node)) {
      const items: RuleValue[] = [];
      for (const [i, item] of node.items.entries()) {
        if (!isScalar(item)) {
          this.report('error', item as Node, [...path, i], 'expected a plain value (string or number)');
          return undefined;
        }
        items.push(this.value(item, [...path, i])!);
      }
      // Mostly literal lists: keep them as one literal so evaluation renders nothing.
      return items.every((v) => 'literal' in v) ? { literal: items.map((v) => (v as { literal: unknown }).literal) } : { list: items };
    }
    this.report('error', node, path, 'expected a value or a list of values');
    return undefined;
  }

  matcher(node: Node | null, path: PropertyKey[]): Matcher | undefined {
    if (node === null || isScalar(node)) {
      const value = this.value(node, path);
      return value && { op: 'eq', value };
    }
    if (isSeq(node)) {
      this.report('error', node, path, 'a list is not a condition; to match any of several values write {$in: [a, b]}');
      return undefined;
    }
    if (!isMap(node)) {
      this.report('error', node, path, 'expected a value or an operator mapping');
      return undefined;
    }
    const items: Matcher[] = [];
    for (const { key, keyNode, value } of this.pairs(node)) {
      const at = [...path, key];
      const one = this.operator(key, keyNode, value, at, node);
      if (one) items.push(one);
    }
    if (items.length === 0) {
      if (node.items.length === 0) this.report('error', node, path, 'empty condition');
      return undefined;
    }
    return items.length === 1 ? items[0] : { op: 'all', items };
  }

  private operator(key: string, keyNode: Node, value: Node | null, at: PropertyKey[], parent: Node): Matcher | undefined {
    switch (key) {
      case '$in':
      case '$nin': {
        if (isScalar(value) && typeof value.value === 'string') {
          const template = parseRuleTemplate(value.value);
          if (template?.whole === undefined) {
            this.report('error', value, at, `${key} needs a list, or one variable that holds a list like \${critpath_pkgs}`);
            return undefined;
          }
        } else if (!isSeq(value)) {
          this.report('error', value ?? keyNode, at, `${key} needs a list of values`);
          return undefined;
        }
        const values = this.value(value, at);
        return values && { op: key === '$in' ? 'in' : 'nin', values };
      }
      case '$regex': {
        if (!isScalar(value) || typeof value.value !== 'string') {
          this.report('error', value ?? keyNode, at, "$regex needs a string '/pattern/'");
          return undefined;
        }
        const template = parseRuleTemplate(value.value);
        if (template && template.parts.some((p) => 'ref' in p)) return { op: 'regex', source: value.value, template };
        const source = template ? String(renderRuleTemplate(template, {})) : value.value;
        try {
          return { op: 'regex', source, compiled: compileRuleRegex(source) };
        } catch (error) {
          this.report('error', value, at, `invalid $regex: ${(error as Error).message}`);
          return undefined;
        }
      }
      case '$and':
      case '$or':
      case '$nor': {
        if (!isSeq(value) || value.items.length === 0) {
          this.report('error', value ?? keyNode, at, `${key} needs a non-empty list of conditions`);
          return undefined;
        }
        const items = value.items.map((item, i) => this.matcher(item as Node, [...at, i]));
        if (items.some((m) => m === undefined)) return undefined;
        return { op: key.slice(1) as 'and' | 'or' | 'nor', items: items as Matcher[] };
      }
      case '$not': {
        const item = this.matcher(value, at);
        return item && { op: 'not', item };
      }
      case '$eq':
      case '$ne': {
        if (value !== null && !isScalar(value)) {
          this.report('error', value, at, `${key} needs a plain value`);
          return undefined;
        }
        const v = this.value(value, at);
        return v && { op: key === '$eq' ? 'eq' : 'ne', value: v };
      }
      case '$exists': {
        if (!isScalar(value) || typeof value.value !== 'boolean') {
          this.report('error', value ?? keyNode, at, '$exists needs true or false');
          return undefined;
        }
        return { op: 'exists', value: value.value };
      }
      case '$all': {
        const v = isSeq(value) ? this.value(value, at) : undefined;
        if (!v || !('literal' in v)) {
          this.report('error', value ?? keyNode, at, '$all needs a list of values');
          return undefined;
        }
        return { op: 'all', items: (v.literal as unknown[]).map((x) => ({ op: 'eq', value: { literal: x } })) };
      }
      default:
        this.report(
          'error',
          keyNode,
          at,
          key.startsWith('$')
            ? `unknown operator '${key}'; known: ${OPERATORS.join(', ')}`
            : `'${key}' inside a condition: operators start with '$' (${OPERATORS.join(', ')}); to compare a field write it at the top of 'when'`,
        );
        void parent;
        return undefined;
    }
  }

  when(node: Node | null, path: PropertyKey[]): Condition[] | undefined {
    if (!isMap(node)) {
      this.report('error', node, path, "'when' needs a mapping of field: condition");
      return undefined;
    }
    const conditions: Condition[] = [];
    let ok = true;
    for (const { key, keyNode, value } of this.pairs(node)) {
      const at = [...path, key];
      if (key === '$and' || key === '$or' || key === '$nor') {
        if (!isSeq(value) || value.items.length === 0) {
          this.report('error', value ?? keyNode, at, `${key} needs a non-empty list of 'when' mappings`);
          ok = false;
          continue;
        }
        const branches = value.items.map((item, i) => this.when(item as Node, [...at, i]));
        if (branches.some((b) => b === undefined)) ok = false;
        else conditions.push({ op: key.slice(1) as 'and' | 'or' | 'nor', branches: branches as Condition[][] });
        continue;
      }
      if (key.startsWith('$')) {
        this.report('error', keyNode, at, `'${key}' cannot stand at the top of 'when'; use $and, $or or $nor, or put it under a field`);
        ok = false;
        continue;
      }
      const matcher = this.matcher(value, at);
      if (matcher) conditions.push({ field: key, matcher });
      else ok = false;
    }
    return ok ? conditions : undefined;
  }

  arches(node: Node | null, path: PropertyKey[]): string[] | undefined {
    if (!isSeq(node) || node.items.length === 0 || !node.items.every((i) => isScalar(i) && typeof i.value === 'string' && i.value !== '')) {
      this.report('error', node, path, "'arches' needs a non-empty list of arch names, e.g. [x86_64, armhfp] or [noarch]");
      return undefined;
    }
    return node.items.map((i) => String((i as Scalar).value));
  }

  action(node: Node | null, path: PropertyKey[]): RuleAction | undefined {
    if (!isMap(node)) {
      this.report('error', node, path, "an action is a mapping with 'tasks' or 'discover'");
      return undefined;
    }
    const entries = new Map(this.pairs(node).map((p) => [p.key, p]));
    let ok = true;
    for (const [key, { keyNode }] of entries) {
      if (!ACTION_KEYS.includes(key)) {
        this.report('error', keyNode, [...path, key], `unknown key '${key}'; an action has ${ACTION_KEYS.join(', ')}`);
        ok = false;
      }
    }
    const tasks = entries.get('tasks');
    const discover = entries.get('discover');
    if (tasks && discover) {
      this.report('error', discover.keyNode, [...path, 'discover'], "an action has 'tasks' or 'discover', not both");
      return undefined;
    }
    if (!tasks && !discover) {
      this.report('error', node, path, "an action needs 'tasks' or 'discover'");
      return undefined;
    }
    const archesEntry = entries.get('arches');
    const arches = archesEntry ? this.arches(archesEntry.value, [...path, 'arches']) : undefined;
    if (archesEntry && !arches) ok = false;
    const matchHost = entries.get('match_host_arch');
    if (matchHost && !(isScalar(matchHost.value) && typeof matchHost.value.value === 'boolean')) {
      this.report('error', matchHost.value ?? matchHost.keyNode, [...path, 'match_host_arch'], 'match_host_arch needs true or false');
      ok = false;
    }
    if (tasks) {
      const at = [...path, 'tasks'];
      if (matchHost) this.report('warning', matchHost.keyNode, [...path, 'match_host_arch'], "match_host_arch only applies to 'discover'");
      if (!isSeq(tasks.value) || tasks.value.items.length === 0) {
        this.report('error', tasks.value ?? tasks.keyNode, at, "'tasks' needs a non-empty list of task names");
        return undefined;
      }
      const names: RuleValue[] = [];
      for (const [i, item] of tasks.value.items.entries()) {
        if (!isScalar(item) || typeof item.value !== 'string' || item.value.trim() === '') {
          this.report('error', item as Node, [...at, i], 'a task name must be a non-empty string');
          ok = false;
          continue;
        }
        names.push(this.value(item, [...at, i])!);
      }
      return ok ? { kind: 'tasks', tasks: names, ...(arches ? { arches } : {}) } : undefined;
    }
    const at = [...path, 'discover'];
    const spec = discover!.value;
    if (!isMap(spec)) {
      this.report('error', spec ?? discover!.keyNode, at, "'discover' needs a mapping with repo, branch, fallback_branch, recursive");
      return undefined;
    }
    const fields = new Map(this.pairs(spec).map((p) => [p.key, p]));
    for (const [key, { keyNode }] of fields) {
      if (!DISCOVER_KEYS.includes(key)) {
        this.report('error', keyNode, [...at, key], `unknown key '${key}'; discover has ${DISCOVER_KEYS.join(', ')}`);
        ok = false;
      }
    }
    const stringField = (key: string, required: boolean): RuleValue | undefined => {
      const entry = fields.get(key);
      if (!entry) {
        if (required) {
          this.report('error', spec, at, `discover needs '${key}'`);
          ok = false;
        }
        return undefined;
      }
      if (!isScalar(entry.value) || typeof entry.value.value !== 'string' || entry.value.value === '') {
        this.report('error', entry.value ?? entry.keyNode, [...at, key], `'${key}' needs a non-empty string`);
        ok = false;
        return undefined;
      }
      return this.value(entry.value, [...at, key]);
    };
    const repo = stringField('repo', true);
    const branch = stringField('branch', false);
    const fallbackBranch = stringField('fallback_branch', false);
    const recursiveEntry = fields.get('recursive');
    if (recursiveEntry && !(isScalar(recursiveEntry.value) && typeof recursiveEntry.value.value === 'boolean')) {
      this.report('error', recursiveEntry.value ?? recursiveEntry.keyNode, [...at, 'recursive'], 'recursive needs true or false');
      ok = false;
    }
    if (!ok || !repo) return undefined;
    return {
      kind: 'discover',
      repo,
      ...(branch ? { branch } : {}),
      ...(fallbackBranch ? { fallbackBranch } : {}),
      recursive: recursiveEntry ? (recursiveEntry.value as Scalar).value === true : false,
      ...(arches ? { arches } : {}),
      matchHostArch: matchHost ? (matchHost.value as Scalar).value === true : false,
    };
  }

  rule(node: Node, index: number): TriggerRule | undefined {
    const path = [index];
    if (!isMap(node)) {
      this.report('error', node, path, "a rule is a mapping with 'when' and 'do'");
      return undefined;
    }
    const entries = new Map(this.pairs(node).map((p) => [p.key, p]));
    let ok = true;
    for (const [key, { keyNode }] of entries) {
      if (!RULE_KEYS.includes(key)) {
        this.report('error', keyNode, [...path, key], `unknown key '${key}'; a rule has 'when' and 'do'`);
        ok = false;
      }
    }
    const whenEntry = entries.get('when');
    const doEntry = entries.get('do');
    if (!whenEntry) this.report('error', node, path, "a rule needs 'when' (the conditions)");
    if (!doEntry) this.report('error', node, path, "a rule needs 'do' (what to schedule)");
    if (!whenEntry || !doEntry) return undefined;
    const when = this.when(whenEntry.value, [...path, 'when']);
    if (whenEntry.value && isMap(whenEntry.value) && whenEntry.value.items.length === 0) {
      this.report('warning', whenEntry.value, [...path, 'when'], "empty 'when' matches every message");
    }
    let actions: RuleAction[] | undefined;
    if (!isSeq(doEntry.value) || doEntry.value.items.length === 0) {
      this.report('error', doEntry.value ?? doEntry.keyNode, [...path, 'do'], "'do' needs a non-empty list of actions");
    } else {
      const compiled = doEntry.value.items.map((item, i) => this.action(item as Node, [...path, 'do', i]));
      if (compiled.every((a) => a !== undefined)) actions = compiled as RuleAction[];
    }
    if (!ok || !when || !actions) return undefined;
    return { index, line: this.lines.linePos(node.range?.[0] ?? 0).line, when, do: actions };
  }
}

/** Compiles rules text; `value` is set only when there are no errors. */
export function loadRules(text: string, file: string): LoadResult {
  const lines = new LineCounter();
  // PyYAML, which read these files, speaks YAML 1.1.
  const doc = parseDocument(text, { lineCounter: lines, version: '1.1', prettyErrors: false, uniqueKeys: true });
  const compiler = new Compiler(file, lines);
  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    compiler.errors.push({ severity: 'error', file, line, column: col, path: '', message: error.message.split('\n')[0]! });
  }
  if (compiler.errors.length > 0) return { errors: compiler.errors, warnings: compiler.warnings };
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) {
    compiler.report('warning', root, [], 'the rules file is empty: no message will start a job');
    return { value: { file, rules: [] }, errors: [], warnings: compiler.warnings };
  }
  if (!isSeq(root)) {
    compiler.report('error', root, [], "a rules file is a list of rules ('- when: ... do: ...')");
    return { errors: compiler.errors, warnings: compiler.warnings };
  }
  const rules = root.items.map((item, index) => compiler.rule(item as Node, index));
  if (compiler.errors.length > 0) return { errors: compiler.errors, warnings: compiler.warnings };
  return { value: { file, rules: rules as TriggerRule[] }, errors: [], warnings: compiler.warnings };
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
