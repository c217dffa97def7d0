// runtask.yml text → validated, normalised Formula, with every problem reported at once. Valid
// formulas take the fast path (no positions); anything to report goes through `yaml` with positions.
import type { Diagnostic } from './diagnostic.js';
import { fastLoad } from './fast-yaml.js';
import { parseLocatedYaml, type SourceLocator } from './locate.js';
import { issueDiagnostics, issueMessages } from './issues.js';
import { DIRECTIVE_NAMES, type Action, type DirectiveName, type Formula, type InputArgName } from './model.js';
import { DEPRECATED_DIRECTIVES, FormulaFileSchema } from './schema.js';
import { FormulaRules } from './rules.js';

export interface FormulaParseResult {
  /** Present only when there are no errors. */
  formula?: Formula;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Asked for a position on the fast path: something needs reporting, so the slow path takes over. */
class NeedsPositions extends Error {}

const NO_POSITIONS: SourceLocator = {
  at: () => { throw new NeedsPositions(); },
  value: () => { throw new NeedsPositions(); },
  key: () => { throw new NeedsPositions(); },
  missing: () => { throw new NeedsPositions(); },
  node: () => { throw new NeedsPositions(); },
};

/** Parses and validates a formula; `file` is only used to label diagnostics. */
export function parseFormula(text: string, file: string): FormulaParseResult {
  return parseFormulaFast(text, file) ?? parseFormulaWithPositions(text, file);
}

/**
 * A valid formula with nothing to warn about, read without positions (fast-yaml.ts); undefined
 * whenever there is anything to report or the fast reader cannot be trusted with the text.
 */
export function parseFormulaFast(text: string, file: string): FormulaParseResult | undefined {
  const loaded = fastLoad(text);
  const data = loaded?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const parsed = FormulaFileSchema.safeParse(data);
  if (!parsed.success) return undefined;
  try {
    if (new FormulaRules(file, NO_POSITIONS, data as Record<string, unknown>).check().length > 0) return undefined;
  } catch (error) {
    if (error instanceof NeedsPositions) return undefined;
    throw error;
  }
  return { formula: normalise(parsed.data), errors: [], warnings: [] };
}

/** The full parse: every error and warning with its line and column. */
export function parseFormulaWithPositions(text: string, file: string): FormulaParseResult {
  const { doc, map, errors: yamlErrors, warnings } = parseLocatedYaml(text, file);
  if (yamlErrors.length > 0) return done(yamlErrors, warnings);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return done([{ severity: 'error', file, line: 1, column: 1, path: '', message: `YAML: ${(e as Error).message}` }], warnings);
  }
  if (data === null || data === undefined) {
    const message = 'the file is empty: expected a mapping with name, desc, maintainer, input and actions';
    return done([{ severity: 'error', file, line: 1, column: 1, path: '', message }], warnings);
  }

  const parsed = FormulaFileSchema.safeParse(data, { error: issueMessages, reportInput: true });
  const diagnostics = parsed.success
    ? []
    : issueDiagnostics(parsed.error.issues, { file, map, data, schema: FormulaFileSchema });
  if (typeof data === 'object' && !Array.isArray(data)) {
    diagnostics.push(...new FormulaRules(file, map, data as Record<string, unknown>).check());
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  warnings.push(...diagnostics.filter((d) => d.severity === 'warning'));
  if (errors.length > 0 || !parsed.success) return done(errors, warnings);
  return { formula: normalise(parsed.data), errors: [], warnings: sorted(warnings) };
}

function done(errors: Diagnostic[], warnings: Diagnostic[]): FormulaParseResult {
  return { errors: sorted(errors), warnings: sorted(warnings) };
}

function sorted(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
}

type FormulaFileData = ReturnType<typeof FormulaFileSchema.parse>;
type ActionData = NonNullable<FormulaFileData['actions']>[number];

function normalise(file: FormulaFileData): Formula {
  const formula: Formula = {
    name: file.name,
    desc: file.desc,
    maintainer: file.maintainer,
    ...(file.namespace !== undefined && { namespace: file.namespace }),
    input: { args: [...file.input.args] as InputArgName[] },
    ...(file.environment && { environment: file.environment.rpm ? { rpm: [...file.environment.rpm] } : {} }),
    ...(file.timeout !== undefined && { timeout: file.timeout }),
    actions: (file.actions ?? file.task ?? []).map(normaliseAction),
  };
  return formula;
}

function normaliseAction(action: ActionData): Action {
  const record = action as Record<string, unknown>;
  const key = [...DIRECTIVE_NAMES, ...Object.keys(DEPRECATED_DIRECTIVES)].find((k) => record[k] !== undefined) ?? 'dummy';
  const directive = (DEPRECATED_DIRECTIVES[key] ?? key) as DirectiveName;
  return {
    name: action.name,
    directive,
    params: record[key],
    ...(action.export !== undefined && { export: action.export }),
    ...(action.timeout !== undefined && { timeout: action.timeout }),
    ...(action.retry && {
      retry: {
        attempts: action.retry.attempts,
        backoff: action.retry.backoff ?? '10s',
        ...(action.retry.max_backoff !== undefined && { maxBackoff: action.retry.max_backoff }),
      },
    }),
  };
}
