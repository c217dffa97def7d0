// The task formula: model, parser/validator, JSON Schema and substitution.
// Workflow code must import `./substitute.js` (and `./model.js`, `./duration.js`) directly:
// this index also pulls in the YAML parser and zod.
export * from './model.js';
export { durationSeconds, parseDuration, type Duration } from './duration.js';
export { formatDiagnostic, formatPath, type Diagnostic, type Severity } from './diagnostic.js';
export { parseFormula, type FormulaParseResult } from './parse.js';
export { formulaJsonSchema, DIRECTIVE_PARAMS, PARAM_RULES, type DirectiveParams, type FormulaFile } from './schema.js';
export {
  builtinVariables,
  substituteParams,
  substituteShell,
  FormulaVariableError,
  type JobVariablesInput,
  type ShellCommand,
  type SubstitutionContext,
  type Variables,
} from './substitute.js';
export { shellQuote } from './shell-words.js';
