// The shape of trigger_rules.yml (reference §2.4) as a zod schema: what each place of the file may
// hold, with the message an operator reads when it holds something else. The JSON Schema editors use
// (schema/trigger-rules.schema.json, `npm run schema`) is generated from it. What a schema cannot say
// (an action has `tasks` or `discover`, not both; warnings) is checked by hand in rules.ts.
import { z } from 'zod';
import type { Diagnostic } from '../formula/diagnostic.js';
import { formatPath } from '../formula/diagnostic.js';
import type { SourceMap } from '../formula/locate.js';
import { compileRuleRegex } from './rule-regex.js';
import { parseRuleTemplate, renderRuleTemplate } from './rule-template.js';

export const OPERATORS = ['$in', '$nin', '$regex', '$and', '$or', '$nor', '$not', '$eq', '$ne', '$exists', '$all'];
export const RULE_KEYS = ['when', 'do'];
export const ACTION_KEYS = ['tasks', 'discover', 'arches', 'match_host_arch'];
export const DISCOVER_KEYS = ['repo', 'branch', 'fallback_branch', 'recursive'];

type Issue = z.core.$ZodIssue;
type Path = PropertyKey[];

/** A message for the value's type being wrong, and another when the key is not there at all. */
const says = (wrong: string, missing = wrong) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? missing : wrong) });

/** What YAML gives for a scalar (YAML 1.1, as PyYAML read these files: timestamps too). */
const plainValue = (message: string) => z.union([z.string(), z.number(), z.boolean(), z.null(), z.date()], { error: message });

const isWholeVariable = (text: string) => parseRuleTemplate(text)?.whole !== undefined;

const inList = (key: '$in' | '$nin') =>
  z.union(
    [
      z.array(plainValue('expected a plain value (string or number)')),
      z.string().refine(isWholeVariable, `${key} needs a list, or one variable that holds a list like \${critpath_pkgs}`),
    ],
    { error: `${key} needs a list of values` },
  );

/** `$regex: '/pattern/flags'`; one with `${var}` in it is compiled per message instead. */
const regex = z.string({ error: "$regex needs a string '/pattern/'" }).superRefine((text, ctx) => {
  const template = parseRuleTemplate(text);
  if (template?.parts.some((p) => 'ref' in p)) return;
  try {
    compileRuleRegex(template ? String(renderRuleTemplate(template, {})) : text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `invalid $regex: ${(error as Error).message}` });
  }
});

const conditions = (key: string) => z.array(z.lazy(() => Condition), { error: `${key} needs a non-empty list of conditions` }).min(1, { error: `${key} needs a non-empty list of conditions` });

/** `{$in: [...], $not: {...}, ...}`: every operator given must hold. */
const Operators = z
  .strictObject({
    $in: inList('$in').optional(),
    $nin: inList('$nin').optional(),
    $regex: regex.optional(),
    $and: conditions('$and').optional(),
    $or: conditions('$or').optional(),
    $nor: conditions('$nor').optional(),
    get $not() {
      return Condition.optional();
    },
    $eq: plainValue('$eq needs a plain value').optional(),
    $ne: plainValue('$ne needs a plain value').optional(),
    $exists: z.boolean({ error: '$exists needs true or false' }).optional(),
    $all: z
      .array(plainValue('$all needs a list of values'), { error: '$all needs a list of values' })
      // Each item is compared as written: no `${var}` there.
      .refine((items) => items.every((item) => typeof item !== 'string' || parseRuleTemplate(item) === undefined), '$all needs a list of values')
      .optional(),
  })
  // Only for `{}` itself: a mapping of unknown operators has said what is wrong with it already.
  .refine((operators) => Object.keys(operators).length > 0, { message: 'empty condition', when: (payload) => payload.issues.length === 0 });

/** A field's condition: a value to equal, or operators. */
export const Condition: z.ZodType = z
  .union([
    plainValue('expected a value or an operator mapping'),
    // Here only to say what to write instead; in the JSON Schema it matches nothing.
    z.array(z.unknown()).refine(() => false, 'a list is not a condition; to match any of several values write {$in: [a, b]}').meta({ not: {} }),
    Operators,
  ])
  .describe('a value the field must equal, or operators ($in, $nin, $regex, $and, $or, $nor, $not, $eq, $ne, $exists, $all)');

const whenList = (key: string) =>
  z.array(z.lazy(() => When), { error: `${key} needs a non-empty list of 'when' mappings` }).min(1, { error: `${key} needs a non-empty list of 'when' mappings` });

/** `when`: field → condition, all must hold; `$and`/`$or`/`$nor` combine whole `when` mappings. */
export const When: z.ZodType = z
  .object(
    {
      get $and() {
        return whenList('$and').optional();
      },
      get $or() {
        return whenList('$or').optional();
      },
      get $nor() {
        return whenList('$nor').optional();
      },
    },
    says("'when' needs a mapping of field: condition", "a rule needs 'when' (the conditions)"),
  )
  .catchall(Condition)
  .describe('conditions on the trigger data (message_type, item, name, tag, …), all of which must hold; ${var} is replaced from the data')
  .superRefine((when, ctx) => {
    for (const key of Object.keys(when)) {
      if (key.startsWith('$') && !['$and', '$or', '$nor'].includes(key)) {
        ctx.addIssue({ code: 'custom', path: [key], params: { at: 'key' }, message: `'${key}' cannot stand at the top of 'when'; use $and, $or or $nor, or put it under a field` });
      }
    }
  });

const ARCHES_MESSAGE = "'arches' needs a non-empty list of arch names, e.g. [x86_64, armhfp] or [noarch]";
const nonEmptyString = (key: string) => z.string({ error: `'${key}' needs a non-empty string` }).min(1, { error: `'${key}' needs a non-empty string` });

const Discover = z.strictObject(
  {
    repo: z.string(says("'repo' needs a non-empty string", "discover needs 'repo'")).min(1, { error: "'repo' needs a non-empty string" }).describe('git URL, e.g. https://src.fedoraproject.org/rpms/${name}'),
    branch: nonEmptyString('branch').optional().describe('e.g. ${distgit_branch}'),
    fallback_branch: nonEmptyString('fallback_branch').optional().describe('used when branch does not exist'),
    recursive: z.boolean({ error: 'recursive needs true or false' }).optional().describe('look for runtask.yml in every directory, not only at the root'),
  },
  { error: "'discover' needs a mapping with repo, branch, fallback_branch, recursive" },
).describe("run the tasks found in a repository (a package's own tests): each runtask.yml is a job");

/** One entry of `do`: tasks × arches, or tasks discovered in a package's repository. */
export const Action = z.strictObject(
  {
    tasks: z
      .array(z.string({ error: 'a task name must be a non-empty string' }).refine((name) => name.trim() !== '', 'a task name must be a non-empty string'), {
        error: "'tasks' needs a non-empty list of task names",
      })
      .min(1, { error: "'tasks' needs a non-empty list of task names" })
      .optional()
      .describe('task names: one job per task × arch'),
    discover: Discover.optional(),
    arches: z
      .array(z.string({ error: ARCHES_MESSAGE }).min(1, { error: ARCHES_MESSAGE }), { error: ARCHES_MESSAGE })
      .min(1, { error: ARCHES_MESSAGE })
      .optional()
      .describe('arches to run on (default: valid_arches); [noarch] is one arch-independent job'),
    match_host_arch: z.boolean({ error: 'match_host_arch needs true or false' }).optional().describe("discover: run on the build's own arch"),
  },
  { error: "an action is a mapping with 'tasks' or 'discover'" },
);

export const Rule = z.strictObject(
  {
    when: When,
    do: z
      .array(Action, says("'do' needs a non-empty list of actions", "a rule needs 'do' (what to schedule)"))
      .min(1, { error: "'do' needs a non-empty list of actions" })
      .describe('what to schedule when every condition holds'),
  },
  { error: "a rule is a mapping with 'when' and 'do'" },
);

export const RulesFileSchema = z
  .array(Rule, { error: "a rules file is a list of rules ('- when: ... do: ...')" })
  .describe('Taskotron trigger_rules.yml: every rule whose `when` holds for a message schedules its `do`');

/** The JSON Schema for editors: generated, never written by hand (test/ingest/generated.ts). */
export function rulesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RulesFileSchema, {
    io: 'input',
    unrepresentable: 'any',
    // YAML 1.1 timestamps arrive as dates; in the file they are text.
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as Record<string, unknown>;
}

export interface IssueContext {
  file: string;
  map: Pick<SourceMap, 'value' | 'key'>;
  data: unknown;
}

/** zod's issues as the rules file's diagnostics: file:line:column, the key path, the schema's message. */
export function ruleIssueDiagnostics(issues: readonly Issue[], ctx: IssueContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) convert(issue, [], ctx, out);
  // One message per place: a list of arches is wrong as a whole, whichever of its items made it so.
  const seen = new Set<string>();
  return out.filter((d) => {
    const key = `${d.line}:${d.column}:${d.path}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function convert(issue: Issue, prefix: Path, ctx: IssueContext, out: Diagnostic[]): void {
  let path: Path = [...prefix, ...issue.path];
  const push = (at: { line: number; column: number }, p: Path, message: string) =>
    out.push({ severity: 'error', file: ctx.file, ...at, path: formatPath(p), message });

  if (issue.code === 'invalid_union') {
    // The branch for the kind of value written (a list, a mapping, a string), not the others.
    const best = issue.errors.filter((branch) => !branch.some(isTypeMismatch)).sort((a, b) => a.length - b.length)[0];
    if (best) for (const inner of best) convert(inner, path, ctx, out);
    else push(ctx.map.value(path), path, issue.message);
    return;
  }
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) push(ctx.map.key([...path, key]), [...path, key], unknownKeyMessage(path, key));
    return;
  }
  // A wrong arch inside `arches` is reported at the list, as its message speaks of the list.
  const arches = path.lastIndexOf('arches');
  if (arches >= 0 && arches === path.length - 2 && typeof path.at(-1) === 'number') path = path.slice(0, -1);
  if (issue.code === 'custom' && (issue.params as { at?: string } | undefined)?.at === 'key') {
    push(ctx.map.key(path), path, issue.message);
    return;
  }
  // A required key that is not there: said at the mapping that lacks it.
  if (path.length > 0 && valueAt(ctx.data, path) === undefined && isMapping(valueAt(ctx.data, path.slice(0, -1)))) {
    const parent = path.slice(0, -1);
    push(ctx.map.value(parent), parent, issue.message);
    return;
  }
  push(ctx.map.value(path), path, issue.message);
}

function unknownKeyMessage(parent: Path, key: string): string {
  if (parent.length === 1) return `unknown key '${key}'; a rule has 'when' and 'do'`;
  if (parent.length === 3 && parent[1] === 'do') return `unknown key '${key}'; an action has ${ACTION_KEYS.join(', ')}`;
  if (parent.length === 4 && parent[1] === 'do' && parent[3] === 'discover') return `unknown key '${key}'; discover has ${DISCOVER_KEYS.join(', ')}`;
  return key.startsWith('$')
    ? `unknown operator '${key}'; known: ${OPERATORS.join(', ')}`
    : `'${key}' inside a condition: operators start with '$' (${OPERATORS.join(', ')}); to compare a field write it at the top of 'when'`;
}

/** A branch of a union that failed because the value is of another kind altogether. */
function isTypeMismatch(issue: Issue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type') return true;
  return issue.code === 'invalid_union' && issue.errors.length > 0 && issue.errors.every((b) => b.some(isTypeMismatch));
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let at = data;
  for (const segment of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, segment)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[segment];
  }
  return at;
}
