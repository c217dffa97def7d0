// Variable substitution into directive parameters at run time (reference §1.3). Temporal workflow
// code imports this module, so it imports nothing but other pure formula modules.
import type { DirectiveName } from './model.js';
import { renderShellTemplate, ShellPlacementError } from './shell-words.js';
import { parseTemplate, soleReference, type ReferencePart } from './template.js';

/** Variable name → value (strings, or JSON data exported by earlier actions). */
export type Variables = Readonly<Record<string, unknown>>;

export interface SubstitutionContext {
  /** Name of the action whose parameters are substituted (named in errors). */
  action: string;
  /** Where the parameters are in the formula, e.g. `actions[2].koji`; defaults to the directive. */
  path?: string;
}

/** A reference that cannot be substituted: undefined variable, missing attribute, bad placement. */
export class FormulaVariableError extends Error {
  override readonly name = 'FormulaVariableError';
  constructor(
    message: string,
    /** The variable as referenced: `item`, or `c.name` for a missing attribute. */
    readonly variable: string,
    /** Name of the action. */
    readonly action: string,
    /** Path of the offending value, e.g. `actions[2].python.string`. */
    readonly path: string,
  ) {
    super(message);
  }
}

/** One command of a `shell` action, ready to run. */
export type ShellCommand =
  /** Run with `/bin/sh -c script`; every substituted value in it is one quoted word. */
  | { kind: 'script'; script: string; ignoreReturn: boolean }
  /** Run directly, without a shell. */
  | { kind: 'argv'; argv: string[]; ignoreReturn: boolean };

export interface JobVariablesInput {
  item: string;
  itemType: string;
  arch: string;
  uuid: string;
  jobid: string;
  artifactsdir: string;
  workdir: string;
  taskdir: string;
  checkname: string;
  /** The formula's namespace; `${namespace}` is undefined when the formula has none. */
  namespace?: string;
}

/**
 * The variables every job defines. The caller merges exports of earlier actions on top.
 * `item` is also available under its type's name, e.g. `koji_build`.
 */
export function builtinVariables(job: JobVariablesInput): Record<string, string> {
  const entries: [string, string][] = [
    [job.itemType, job.item],
    ['item', job.item],
    ['type', job.itemType],
    ['item_type', job.itemType],
    ['arch', job.arch],
    ['uuid', job.uuid],
    ['jobid', job.jobid],
    ['artifactsdir', job.artifactsdir],
    ['workdir', job.workdir],
    ['taskdir', job.taskdir],
    ['checkname', job.checkname],
  ];
  if (job.namespace !== undefined) entries.push(['namespace', job.namespace]);
  return Object.fromEntries(entries);
}

/**
 * Substitutes variables into one action's parameters. A string that is exactly one reference
 * keeps the value's type; references inside longer strings are stringified (JSON for non-strings);
 * mapping keys are substituted too. For `shell` the result is a list of ShellCommand.
 */
export function substituteParams(
  directive: DirectiveName,
  params: unknown,
  variables: Variables,
  ctx: SubstitutionContext,
): unknown {
  const path = ctx.path ?? directive;
  if (directive === 'shell') return substituteShell(params, variables, { ...ctx, path });
  return new Substitution(variables, ctx.action).value(params, path);
}

/** Substitutes a `shell` action's commands; see substituteParams. */
export function substituteShell(params: unknown, variables: Variables, ctx: SubstitutionContext): ShellCommand[] {
  return new Substitution(variables, ctx.action).shell(params, ctx.path ?? 'shell');
}

class Substitution {
  constructor(
    private readonly variables: Variables,
    private readonly action: string,
  ) {}

  value(value: unknown, path: string): unknown {
    if (typeof value === 'string') return this.string(value, path);
    if (Array.isArray(value)) return value.map((v, i) => this.value(v, `${path}[${i}]`));
    if (isMapping(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) {
        const newKey = this.text(key, `${path}.${key}`);
        if (Object.hasOwn(out, newKey)) {
          throw this.error(`two keys of ${path} become '${newKey}' after substitution`, key, path);
        }
        define(out, newKey, this.value(v, `${path}.${key}`));
      }
      return out;
    }
    return value;
  }

  shell(params: unknown, path: string): ShellCommand[] {
    if (typeof params === 'string') {
      const listed = this.string(params, path);
      if (!Array.isArray(listed)) throw this.error(`${path} must be a list of commands`, params, path);
      return listed.flatMap((c, i) => this.commandFromData(c, false, `${path}[${i}]`));
    }
    if (!Array.isArray(params)) throw this.error(`${path} must be a list of commands`, '', path);
    return params.flatMap((c, i) => this.command(c, false, `${path}[${i}]`));
  }

  private command(cmd: unknown, ignoreReturn: boolean, path: string): ShellCommand[] {
    if (typeof cmd === 'string') {
      const parsed = this.parse(cmd, path);
      const sole = soleReference(parsed);
      if (sole) return this.commandFromData(this.resolve(sole, path), ignoreReturn, path);
      try {
        const script = renderShellTemplate(parsed.parts ?? [], (ref) => stringify(this.resolve(ref, path)));
        return [{ kind: 'script', script, ignoreReturn }];
      } catch (e) {
        if (e instanceof ShellPlacementError) {
          throw this.error(`${e.message} (action '${this.action}', ${path})`, e.reference.source, path);
        }
        throw e;
      }
    }
    if (Array.isArray(cmd)) return [{ kind: 'argv', argv: this.argv(cmd, path), ignoreReturn }];
    if (isMapping(cmd) && 'ignorereturn' in cmd) {
      const inner = cmd.ignorereturn;
      const innerPath = `${path}.ignorereturn`;
      if (Array.isArray(inner)) return inner.flatMap((c, i) => this.command(c, true, `${innerPath}[${i}]`));
      return this.command(inner, true, innerPath);
    }
    throw this.error(`${path} is not a shell command`, '', path);
  }

  // A command whose whole text came from a variable is data: it runs as argv, never through a shell.
  private commandFromData(value: unknown, ignoreReturn: boolean, path: string): ShellCommand[] {
    if (typeof value === 'string') return [{ kind: 'argv', argv: [value], ignoreReturn }];
    if (Array.isArray(value)) return [{ kind: 'argv', argv: value.map((a) => argument(a, path, this)), ignoreReturn }];
    if (isMapping(value) && 'ignorereturn' in value) return this.commandFromData(value.ignorereturn, true, path);
    throw this.error(`${path}: a variable used as a command must hold a string or a list`, '', path);
  }

  private argv(cmd: unknown[], path: string): string[] {
    const argv = cmd.flatMap((arg, i): string[] => {
      const argPath = `${path}[${i}]`;
      if (typeof arg !== 'string') return [argument(arg, argPath, this)];
      const spliced = this.string(arg, argPath);
      // `[rpmlint, '${rpms}']`: a list held by a sole reference becomes several arguments.
      if (Array.isArray(spliced)) return spliced.map((a) => argument(a, argPath, this));
      return [argument(spliced, argPath, this)];
    });
    if (argv.length === 0) throw this.error(`${path}: the command is empty after substitution`, '', path);
    return argv;
  }

  private string(input: string, path: string): unknown {
    if (!input.includes('$')) return input;
    const parsed = this.parse(input, path);
    const sole = soleReference(parsed);
    if (sole) return this.resolve(sole, path);
    return (parsed.parts ?? []).map((p) => (p.kind === 'text' ? p.text : stringify(this.resolve(p, path)))).join('');
  }

  private text(input: string, path: string): string {
    return stringify(this.string(input, path));
  }

  private parse(input: string, path: string): ReturnType<typeof parseTemplate> {
    const parsed = parseTemplate(input);
    if (parsed.error) throw this.error(`${parsed.error.message} (action '${this.action}', ${path})`, '$', path);
    return parsed;
  }

  private resolve(ref: ReferencePart, path: string): unknown {
    if (!Object.hasOwn(this.variables, ref.name)) {
      throw this.error(`undefined variable '${ref.name}' in action '${this.action}' (${path})`, ref.name, path);
    }
    let value = this.variables[ref.name];
    let walked = ref.name;
    for (const segment of ref.path) {
      walked += `.${segment}`;
      if (Array.isArray(value) && /^[0-9]+$/.test(segment) && Number(segment) < value.length) {
        value = value[Number(segment)];
      } else if (isMapping(value) && Object.hasOwn(value, segment)) {
        value = value[segment];
      } else {
        throw this.error(
          `variable '${walked}' is undefined: '${walked.slice(0, -segment.length - 1)}' has no '${segment}' (action '${this.action}', ${path})`,
          walked,
          path,
        );
      }
    }
    return value;
  }

  error(message: string, variable: string, path: string): FormulaVariableError {
    return new FormulaVariableError(message, variable, this.action, path);
  }
}

function argument(value: unknown, path: string, s: Substitution): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw s.error(`${path}: a command argument must be a string, got ${JSON.stringify(value)}`, '', path);
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Keys can come from untrusted values; defineProperty keeps `__proto__` an ordinary key.
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
