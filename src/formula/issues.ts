// Turns zod issues into diagnostics a task author can act on: the file position, the dot-path,
// what was expected and what was found, and a suggestion for near-misses.
import { z } from 'zod';
import type { Diagnostic } from './diagnostic.js';
import { formatPath } from './diagnostic.js';
import type { SourceMap } from './locate.js';
import { DIRECTIVE_NAMES } from './model.js';
import { ACTION_KEYS, RETIRED_DIRECTIVES } from './schema.js';
import { didYouMean, suggest } from './suggest.js';

type Issue = z.core.$ZodIssue;
type Path = PropertyKey[];

/** Messages for zod's built-in checks; schema-level `error` options take precedence. */
export const issueMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${typeLabel(issue.expected)}, got ${describe(issue.input)}${booleanHint(issue.expected, issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return `expected a string matching ${issue.pattern ?? issue.format}`;
    default:
      return undefined;
  }
};

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    const firstLine = value.split('\n', 1)[0] ?? '';
    const shown = firstLine.length > 40 ? `${firstLine.slice(0, 40)}…` : firstLine === value ? value : `${firstLine}…`;
    return `'${shown}'`;
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function typeLabel(expected: string): string {
  const labels: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
  };
  return labels[expected] ?? expected;
}

function booleanHint(expected: string, input: unknown): string {
  return expected === 'boolean' && typeof input === 'string' && /^(?:yes|no|on|off|y|n)$/i.test(input)
    ? ` (YAML 1.2 reads '${input}' as text: write true or false)`
    : '';
}

export interface IssueContext {
  file: string;
  /** Where a path is in the source text (a YAML source map, or any file format that can say). */
  map: Pick<SourceMap, 'value' | 'key' | 'missing'>;
  data: unknown;
  /** The schema validated, to list the keys a mapping may have. */
  schema: z.ZodType;
}

export function issueDiagnostics(issues: readonly Issue[], ctx: IssueContext): Diagnostic[] {
  const out: Draft[] = [];
  for (const issue of issues) convert(issue, [], ctx, out);
  // "unknown key 'nmae' — did you mean 'name'?" already explains the missing 'name'.
  const suggested = new Set(out.flatMap((d) => (d.suggested ? [d.suggested] : [])));
  return out.filter((d) => !(d.missing && suggested.has(d.missing))).map(({ suggested: _s, missing: _m, ...d }) => d);
}

interface Draft extends Diagnostic {
  /** `parent-path\0key` this diagnostic suggests, or of the missing key it reports. */
  suggested?: string;
  missing?: string;
}

function convert(issue: Issue, prefix: Path, ctx: IssueContext, out: Draft[]): void {
  const path: Path = [...prefix, ...issue.path];
  const error = (at: { line: number; column: number }, p: Path, message: string, extra: Partial<Draft> = {}) =>
    out.push({ severity: 'error', file: ctx.file, ...at, path: formatPath(p), message, ...extra });

  const missingKey = path.length > 0 && valueAt(ctx.data, path) === undefined && isMapping(valueAt(ctx.data, path.slice(0, -1)));
  if (missingKey && ['invalid_type', 'invalid_union', 'invalid_format', 'invalid_value'].includes(issue.code)) {
    const key = String(path[path.length - 1]);
    error(ctx.map.missing(path), path, `missing required key '${key}'`, { missing: `${formatPath(path.slice(0, -1))}\0${key}` });
    return;
  }

  switch (issue.code) {
    case 'invalid_union': {
      const candidates = issue.errors.filter((branch) => !branch.some(isTypeMismatch));
      const best = candidates.sort((a, b) => a.length - b.length)[0];
      if (best) {
        for (const inner of best) convert(inner, path, ctx, out);
      } else {
        error(ctx.map.value(path), path, withInput(issue.message, valueAt(ctx.data, path)));
      }
      return;
    }
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        const { message, suggestion } = unknownKeyMessage(path, key, ctx);
        error(ctx.map.key(keyPath), keyPath, message, suggestion ? { suggested: `${formatPath(path)}\0${suggestion}` } : {});
      }
      return;
    case 'invalid_type':
      error(ctx.map.value(path), path, issue.message);
      return;
    case 'invalid_value': {
      const input = valueAt(ctx.data, path);
      const values = issue.values.map(String);
      error(
        ctx.map.value(path),
        path,
        `expected one of ${values.join(', ')}, got ${describe(input)}${typeof input === 'string' ? didYouMean(input, values) : ''}`,
      );
      return;
    }
    case 'invalid_format':
      error(ctx.map.value(path), path, withInput(issue.message, valueAt(ctx.data, path)));
      return;
    default:
      error(ctx.map.value(path), path, issue.message);
  }
}

/** `expected X` + `, got Y`, unless the message already says what it got. */
function withInput(message: string, input: unknown): string {
  if (message.includes(', got ')) return message;
  const hint = message.startsWith('expected true or false') ? booleanHint('boolean', input) : '';
  return `${message}, got ${describe(input)}${hint}`;
}

function isMapping(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A branch of a union that failed because the value is of another kind altogether. */
function isTypeMismatch(issue: Issue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type' || issue.code === 'invalid_format') return true;
  return issue.code === 'invalid_union' && issue.errors.length > 0 && issue.errors.every((b) => b.some(isTypeMismatch));
}

function unknownKeyMessage(parent: Path, key: string, ctx: IssueContext): { message: string; suggestion?: string } {
  const isAction = parent.length === 2 && typeof parent[1] === 'number' && (parent[0] === 'actions' || parent[0] === 'task');
  if (isAction) {
    const retired = RETIRED_DIRECTIVES[key];
    if (retired) return { message: `unknown directive: ${retired}` };
    const candidates = [...DIRECTIVE_NAMES, ...ACTION_KEYS];
    const suggestion = suggest(key, candidates);
    const value = valueAt(ctx.data, [...parent, key]);
    const looksLikeDirective =
      suggestion !== undefined ? (DIRECTIVE_NAMES as readonly string[]).includes(suggestion) : typeof value === 'object';
    if (!looksLikeDirective) return { message: `unknown key '${key}'${didYouMean(key, candidates)}`, suggestion };
    if (suggestion) return { message: `unknown directive '${key}' — did you mean '${suggestion}'?`, suggestion };
    return { message: `unknown directive '${key}'; directives are ${DIRECTIVE_NAMES.join(', ')}` };
  }
  const known = knownKeys(ctx.schema, parent);
  const suggestion = suggest(key, known);
  return {
    message: `unknown key '${key}'${suggestion ? ` — did you mean '${suggestion}'?` : known.length ? `; expected ${known.join(', ')}` : ''}`,
    suggestion,
  };
}

/** Keys the object schema at `path` allows. */
export function knownKeys(schema: z.ZodType, path: Path): string[] {
  let at: z.ZodType | undefined = schema;
  for (const segment of path) {
    at = unwrapToContainer(at, typeof segment === 'number' ? 'array' : 'object');
    if (at instanceof z.ZodArray) at = at.element as z.ZodType;
    else if (at instanceof z.ZodObject) at = (at.shape as Record<string, z.ZodType>)[String(segment)];
    else return [];
  }
  at = unwrapToContainer(at, 'object');
  return at instanceof z.ZodObject ? Object.keys(at.shape as Record<string, unknown>) : [];
}

function unwrapToContainer(schema: z.ZodType | undefined, want: 'array' | 'object'): z.ZodType | undefined {
  let at = schema;
  for (let depth = 0; depth < 10 && at; depth++) {
    if (at instanceof z.ZodOptional || at instanceof z.ZodDefault || at instanceof z.ZodPrefault) at = at.unwrap() as z.ZodType;
    else if (at instanceof z.ZodUnion) {
      const options = at.options as readonly z.ZodType[];
      at = options.find((o) => (want === 'array' ? o instanceof z.ZodArray : o instanceof z.ZodObject)) ?? options[0];
    } else return at;
  }
  return at;
}

export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let at = data;
  for (const segment of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    if (!Object.hasOwn(at, segment)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[segment];
  }
  return at;
}
