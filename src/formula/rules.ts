// Rules the schema cannot state: exactly one directive per action, keys that depend on each
// other (PARAM_RULES), and variables: every reference must name a variable that exists when the
// action runs, every export should be used. They read the raw data defensively, because they run
// alongside the schema check and must not trip over shapes it already reported.
import { isSeq, isScalar } from 'yaml';
import type { Diagnostic, Severity } from './diagnostic.js';
import { formatPath } from './diagnostic.js';
import { parseDuration } from './duration.js';
import type { SourceLocator } from './locate.js';
import { BUILTIN_VARIABLE_NAMES, DIRECTIVE_NAMES, ITEM_TYPES, type DirectiveName } from './model.js';
import { DEPRECATED_DIRECTIVES, PARAM_RULES, PYTHON_KWARG_PATTERN } from './schema.js';
import { renderShellTemplate, ShellPlacementError } from './shell-words.js';
import { didYouMean } from './suggest.js';
import { parseTemplate, soleReference, type ReferencePart } from './template.js';

type Path = PropertyKey[];
type Data = Record<string, unknown>;

const pythonKwarg = new RegExp(PYTHON_KWARG_PATTERN);
const directiveKeys: readonly string[] = [...DIRECTIVE_NAMES, ...Object.keys(DEPRECATED_DIRECTIVES)];

export class FormulaRules {
  readonly diagnostics: Diagnostic[] = [];
  private readonly defined = new Set<string>();
  private readonly args: string[];
  /** Every export: action index, name, and whether a later action reads it. */
  private readonly exports: { index: number; name: string; path: Path; used: boolean }[] = [];

  constructor(
    private readonly file: string,
    private readonly map: SourceLocator,
    private readonly data: Data,
  ) {
    this.args = Array.isArray(data.input && (data.input as Data).args)
      ? ((data.input as Data).args as unknown[]).filter((a): a is string => typeof a === 'string')
      : [];
  }

  check(): Diagnostic[] {
    const listKey = this.actionsKey();
    this.checkInput();
    for (const name of BUILTIN_VARIABLE_NAMES) {
      if (name !== 'namespace' || typeof this.data.namespace === 'string') this.defined.add(name);
    }
    for (const arg of this.args) this.defined.add(arg);
    const actions = listKey ? this.data[listKey] : undefined;
    if (Array.isArray(actions)) {
      actions.forEach((action: unknown, index) => {
        if (isMapping(action) && typeof action.export === 'string') {
          this.exports.push({ index, name: action.export, path: [listKey ?? 'actions', index], used: false });
        }
      });
      actions.forEach((action: unknown, i) => {
        if (isMapping(action)) this.checkAction(action, [listKey ?? 'actions', i], i);
      });
      for (const e of this.exports) {
        if (!e.used) this.report('warning', [...e.path, 'export'], `export '${e.name}' is never used by a later action`);
      }
    }
    return this.diagnostics;
  }

  private actionsKey(): 'actions' | 'task' | undefined {
    const hasActions = 'actions' in this.data;
    const hasTask = 'task' in this.data;
    if (hasTask && hasActions) {
      this.report('error', ['task'], "use 'actions' only: 'task' is its deprecated 2014 name, and both are given", 'key');
      return 'actions';
    }
    if (hasTask) {
      this.report('warning', ['task'], "'task' is the 2014 name of 'actions' and is deprecated: rename it to 'actions'", 'key');
      return 'task';
    }
    if (!hasActions) this.report('error', ['actions'], "missing required key 'actions'", 'missing');
    return hasActions ? 'actions' : undefined;
  }

  private checkInput(): void {
    const itemTypes = this.args.filter((a) => (ITEM_TYPES as readonly string[]).includes(a));
    if (itemTypes.length > 1) {
      this.report(
        'warning',
        ['input', 'args'],
        `a job provides one item, but input.args lists ${itemTypes.length} item types (${itemTypes.join(', ')})`,
      );
    }
    this.args.forEach((arg, i) => {
      if (this.args.indexOf(arg) !== i) this.report('warning', ['input', 'args', i], `'${arg}' is listed twice`);
    });
  }

  private checkAction(action: Data, path: Path, index: number): void {
    const directives = Object.keys(action).filter((k) => directiveKeys.includes(k));
    const unknown = Object.keys(action).filter((k) => !directiveKeys.includes(k) && !['name', 'export', 'timeout', 'retry'].includes(k));
    if (directives.length === 0 && unknown.length === 0) {
      this.report('error', path, `an action needs exactly one directive: ${DIRECTIVE_NAMES.join(', ')}`);
    }
    const [first, second] = directives;
    if (first && second) {
      this.report('error', [...path, second], `an action runs exactly one directive, but '${first}' and '${second}' are both given`, 'key');
    }
    this.checkTimeout(action, path);
    for (const key of directives) {
      const directive = (DEPRECATED_DIRECTIVES[key] ?? key) as DirectiveName;
      if (key !== directive) {
        this.report('warning', [...path, key], `'${key}' is the old name of '${directive}' (renamed in libtaskotron 0.4.15): use '${directive}'`, 'key');
      }
      this.checkParams(directive, action[key], [...path, key], index);
    }
    const name = action.export;
    if (typeof name === 'string') {
      if ((BUILTIN_VARIABLE_NAMES as readonly string[]).includes(name)) {
        this.report('error', [...path, 'export'], `export '${name}' would replace the built-in variable '${name}'`);
      } else if (this.args.includes(name)) {
        this.report('warning', [...path, 'export'], `export '${name}' replaces the input variable '${name}' for later actions`);
      }
    }
  }

  private checkTimeout(action: Data, path: Path): void {
    const job = typeof this.data.timeout === 'string' ? parseDuration(this.data.timeout) : undefined;
    const own = typeof action.timeout === 'string' ? parseDuration(action.timeout) : undefined;
    if (job !== undefined && own !== undefined && own > job) {
      this.report('warning', [...path, 'timeout'], `action timeout ${String(action.timeout)} is longer than the job timeout ${String(this.data.timeout)}`);
    }
  }

  private checkParams(directive: DirectiveName, params: unknown, path: Path, index: number): void {
    this.checkReferences(directive, params, path, index);
    if (!isMapping(params)) {
      if (directive === 'shell' && Array.isArray(params)) this.checkIgnoreReturnLists(params, path);
      return;
    }
    const rules = PARAM_RULES[directive];
    for (const group of rules?.exactlyOne ?? []) {
      const given = group.filter((k) => k in params);
      const [a, b] = given;
      if (!a) this.report('error', path, `needs one of ${group.map((k) => `'${k}'`).join(' or ')}`, 'key');
      else if (b) this.report('error', [...path, b], `give either '${a}' or '${b}', not both`, 'key');
    }
    const when = rules?.requiredWhen;
    const selector = when ? params[when.key] : undefined;
    if (when && typeof selector === 'string') {
      for (const key of when.required[selector] ?? []) {
        if (!(key in params)) {
          this.report('error', [...path, key], `missing required key '${key}' (${when.key} '${selector}' needs it)`, 'missing');
        }
      }
    }
    for (const [a, b] of rules?.sameLength ?? []) {
      const la = params[a];
      const lb = params[b];
      if (Array.isArray(la) && Array.isArray(lb) && la.length !== lb.length) {
        this.report('error', [...path, b], `'${b}' must have as many entries as '${a}' (${lb.length} vs ${la.length})`);
      }
    }
    if (directive === 'python') {
      for (const key of Object.keys(params)) {
        if (!pythonKwarg.test(key)) {
          this.report('error', [...path, key], `'${key}' is not a valid Python keyword argument name`, 'key');
        }
      }
    }
  }

  // `ignorereturn: [a, b]` written inline looks like argv, but it is a list of two command lines.
  private checkIgnoreReturnLists(commands: unknown[], path: Path): void {
    commands.forEach((cmd, i) => {
      if (!isMapping(cmd) || !Array.isArray(cmd.ignorereturn)) return;
      const at = [...path, i, 'ignorereturn'];
      const node = this.map.node(at);
      if (isSeq(node) && node.flow && node.items.length > 1 && node.items.every((n) => isScalar(n))) {
        this.report(
          'warning',
          at,
          'this list is read as several command lines, one per item; for one argv command write [[program, arg, ...]]',
        );
      }
    });
  }

  private checkReferences(directive: DirectiveName, value: unknown, path: Path, index: number): void {
    if (typeof value === 'string') {
      this.checkString(directive, value, path, index, 'value');
    } else if (typeof value === 'number' && !Number.isFinite(value)) {
      this.report('error', path, `${String(value)} cannot be passed to a directive; quote it to pass text`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => this.checkReferences(directive, v, [...path, i], index));
    } else if (isMapping(value)) {
      for (const [k, v] of Object.entries(value)) {
        this.checkString(directive, k, [...path, k], index, 'key');
        this.checkReferences(directive, v, [...path, k], index);
      }
    }
  }

  private checkString(directive: DirectiveName, text: string, path: Path, index: number, at: 'key' | 'value'): void {
    if (!text.includes('$')) return;
    const parsed = parseTemplate(text);
    if (parsed.error) {
      this.report('error', path, parsed.error.message, at);
      return;
    }
    for (const part of parsed.parts) {
      if (part.kind === 'ref') this.checkReference(directive, part, path, index, at);
    }
    if (directive === 'shell' && at === 'value' && isShellCommandString(path) && !soleReference(parsed)) {
      try {
        renderShellTemplate(parsed.parts, () => '');
      } catch (e) {
        if (!(e instanceof ShellPlacementError)) throw e;
        this.report('error', path, `${e.message} (an argv list avoids the shell)`, at);
      }
    }
  }

  private checkReference(directive: DirectiveName, ref: ReferencePart, path: Path, index: number, at: 'key' | 'value'): void {
    const name = ref.name;
    const earlier = this.exports.filter((e) => e.index < index && e.name === name).pop();
    if (earlier) {
      earlier.used = true;
      return;
    }
    if (this.defined.has(name)) return;
    const later = this.exports.find((e) => e.index >= index && e.name === name);
    let message: string;
    if (later) {
      message = `variable '${name}' is exported by a later action (${formatPath(later.path)}); actions run in order`;
    } else if ((ITEM_TYPES as readonly string[]).includes(name)) {
      message = `variable '${name}' is only defined when input.args lists '${name}'`;
    } else if (name === 'namespace') {
      message = "variable 'namespace' is undefined because the formula sets no namespace";
    } else {
      const known = [...this.defined, ...this.exports.filter((e) => e.index < index).map((e) => e.name)];
      const hint = directive === 'shell' && /^[A-Z][A-Z0-9_]*$/.test(name) ? ` (for the shell's own variable write $$${name})` : '';
      message = `undefined variable '${name}'${didYouMean(name, known)}${hint}`;
    }
    this.report('error', path, message, at);
  }

  private report(severity: Severity, path: Path, message: string, at: 'key' | 'value' | 'missing' = 'value'): void {
    const pos = at === 'key' ? this.map.key(path) : at === 'missing' ? this.map.missing(path) : this.map.value(path);
    this.diagnostics.push({ severity, file: this.file, ...pos, path: formatPath(path), message });
  }
}

/** A shell command line (run by /bin/sh), as opposed to an element of an argv list. */
function isShellCommandString(path: Path): boolean {
  // …shell[i] or …shell[i].ignorereturn or …shell[i].ignorereturn[j]
  const tail = path.slice(3);
  return (
    (tail.length === 1 && typeof tail[0] === 'number') ||
    (tail.length === 2 && tail[1] === 'ignorereturn') ||
    (tail.length === 3 && tail[1] === 'ignorereturn' && typeof tail[2] === 'number')
  );
}

function isMapping(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
