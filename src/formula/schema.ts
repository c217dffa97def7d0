// The runtask.yml file format, schema-first: these zod schemas validate formulas, generate
// schema/runtask.schema.json for editors, and feed the tables in docs/task-formula.md.
// Rules that span several keys live in PARAM_RULES, one table that both the validator
// (rules.ts) and the JSON Schema read.
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { DIRECTIVE_NAMES, INPUT_ARG_NAMES, type DirectiveName } from './model.js';
import { IDENTIFIER_PATTERN, VARIABLE_REFERENCE_PATTERN } from './template.js';

const identifier = new RegExp(IDENTIFIER_PATTERN);
const variableReference = new RegExp(VARIABLE_REFERENCE_PATTERN);
const durationPattern = new RegExp(DURATION_PATTERN);

/** `schema`, or a variable reference that must hold such a value at run time. */
function orVariable<T extends z.ZodType>(schema: T, label: string) {
  const error = `expected ${label} or a \${variable} reference`;
  // zod reports the reference branch alone when the value is a string, so it carries the label too.
  const reference = z
    .string()
    .regex(variableReference, { error })
    .meta({ description: 'One variable reference such as `${name}` or `${a.b}`, resolved at run time.' });
  return z.union([schema, reference], { error });
}

export const DurationSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? `a duration needs a unit: write ${String(issue.input)}s (or e.g. 30m, 2h, 1h30m), got ${String(issue.input)}`
        : 'expected a duration such as 90s, 30m, 2h or 1h30m',
  })
  .regex(durationPattern, { error: 'expected a duration such as 90s, 30m, 2h or 1h30m' })
  .min(1, { error: 'expected a duration such as 90s, 30m, 2h or 1h30m' })
  // Only a well-formed duration can be zero; malformed ones are reported once, above.
  .refine((d) => d === '' || !durationPattern.test(d) || parseDuration(d) !== undefined, {
    error: 'a duration must be longer than 0s',
  })
  .meta({ description: 'A duration with units: `90s`, `30m`, `2h`, `1h30m`.' });

const text = (description: string) => z.string().meta({ description });
const flag = (description: string, dflt: boolean) =>
  orVariable(z.boolean(), 'true or false').meta({ description, default: dflt });
const arches = (description: string) =>
  z.union([z.string(), z.array(z.string())], { error: 'expected an arch or a list of arches' }).meta({ description });
const files = (description: string) => orVariable(z.array(z.string()).min(1), 'a list of file names').meta({ description });

// ---- cross-field rules ------------------------------------------------------------------------

export interface ParamRules {
  /** Each group: exactly one of these keys must be present. */
  exactlyOne?: readonly (readonly string[])[];
  /** Keys required depending on the value of `key`. */
  requiredWhen?: { key: string; required: Readonly<Record<string, readonly string[]>> };
  /** Pairs of list parameters that must have the same length. */
  sameLength?: readonly (readonly [string, string])[];
}

export const PARAM_RULES: { readonly [D in DirectiveName]?: ParamRules } = {
  koji: {
    requiredWhen: {
      key: 'action',
      required: { download: ['koji_build'], download_latest_stable: ['koji_build'], download_tag: ['koji_tag'] },
    },
  },
  distgit: { exactlyOne: [['package', 'nvr']], sameLength: [['path', 'localpath']] },
  resultsdb: { exactlyOne: [['results', 'file']] },
  exitcode: { exactlyOne: [['result_last', 'result_worst']] },
  create_report: { exactlyOne: [['results', 'file']] },
};

/** The JSON Schema form of a directive's ParamRules (sameLength has none). */
function rulesJsonSchema(rules: ParamRules | undefined): Record<string, unknown> {
  const allOf: unknown[] = [];
  for (const group of rules?.exactlyOne ?? []) allOf.push({ oneOf: group.map((k) => ({ required: [k] })) });
  const when = rules?.requiredWhen;
  for (const [value, keys] of Object.entries(when?.required ?? {})) {
    allOf.push({
      if: { properties: { [when?.key ?? '']: { const: value } }, required: [when?.key] },
      then: { required: keys },
    });
  }
  return allOf.length ? { allOf } : {};
}

/** Python keyword-argument names (a key may also be built from variables). */
export const PYTHON_KWARG_PATTERN = '^(?:[A-Za-z_][A-Za-z0-9_]*|.*\\$.*)$';

// ---- directives -------------------------------------------------------------------------------

const ShellArgv = z
  .array(z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }), {
    error: 'expected a command',
  })
  .min(1, { error: 'an argv command needs at least the program name' })
  .meta({ description: 'A command as an argv list: run directly, no shell involved.' });
const ShellString = z
  .string()
  .min(1, { error: 'a command must not be empty' })
  .meta({ description: 'A command line, run with /bin/sh -c; substituted values are quoted as one word.' });
const ShellSimpleCommand = z.union([ShellString, ShellArgv], { error: 'expected a command line or an argv list' });
const ShellIgnoreReturn = z
  .strictObject({
    ignorereturn: z
      .union([ShellString, z.array(ShellSimpleCommand).min(1)], {
        error: 'expected a command line or a list of commands',
      })
      .meta({ description: 'A command line, or a list of commands (a list of strings is several command lines).' }),
  })
  .meta({ description: 'Run the command(s) but do not fail the action when they exit non-zero.' });
const ShellCommandSchema = z.union([ShellString, ShellArgv, ShellIgnoreReturn], {
  error: 'expected a command line, an argv list or {ignorereturn: ...}',
});
const ShellParams = orVariable(z.array(ShellCommandSchema).min(1), 'a list of commands').meta({
  description:
    'Commands run in order in the task directory. Each is a command line (string), an argv list, or ' +
    '`{ignorereturn: ...}`. A non-zero exit fails the action. Output is the return value.',
});

const PythonParams = z
  .object({
    file: z.string().min(1).meta({ description: 'Python file, relative to the task directory.' }),
    callable: z
      .string()
      .regex(identifier, { error: 'expected the name of a Python function' })
      .meta({ description: 'Name of the function in `file` to call.' }),
  })
  .catchall(z.unknown().meta({ description: 'Passed to the callable as a keyword argument.' }))
  .meta({
    description:
      'Calls `callable` from `file`; every other key is a keyword argument. Its return value ' +
      '(usually ResultYAML) is the action output.',
    propertyNames: { pattern: PYTHON_KWARG_PATTERN },
  });

const KojiParams = z
  .strictObject({
    action: z.enum(['download', 'download_tag', 'download_latest_stable']).meta({
      description:
        '`download`: one build; `download_tag`: all builds in a tag; `download_latest_stable`: the latest ' +
        'stable build of the same package.',
    }),
    koji_build: text('N(E)VR of the build; required for `download` and `download_latest_stable`.').optional(),
    koji_tag: text('Koji tag; required for `download_tag`.').optional(),
    arch: arches('Arches to download (`all` = every arch; `[]` = none). `noarch` is added unless `all`, `noarch` or `[]`.'),
    arch_exclude: arches('Arches to leave out, e.g. `noarch`.').optional(),
    src: flag('Also download the SRPM.', false).optional(),
    debuginfo: flag('Also download debuginfo packages.', false).optional(),
    build_log: flag('Also fetch build.log per arch (single-build actions only).', false).optional(),
    target_dir: text('Where to download to; created if missing. Default `${workdir}`.').optional(),
  })
  .meta({
    description: 'Downloads RPMs from Koji. Returns `{downloaded_rpms, downloaded_logs, log_errors}`.',
    ...rulesJsonSchema(PARAM_RULES.koji),
  });

const BodhiParams = z
  .strictObject({
    action: z.enum(['download']).meta({ description: 'The only action: `download`.' }),
    update_id: text('Bodhi update id, e.g. `FEDORA-2014-7485`.'),
    arch: arches('Arches to download; `noarch` is added unless `[]` with `src: true`.').optional(),
    src: flag('Also download SRPMs.', false).optional(),
    target_dir: text('Where to download to.').optional(),
  })
  .meta({ description: 'Downloads the RPMs of a Bodhi update. Returns `{downloaded_rpms}`.' });

const DistgitParams = z
  .strictObject({
    package: text('Package (repository) name.').optional(),
    nvr: text('Build NVR; sets `package`, `gitref` (from the dist tag) and `namespace: rpms`.').optional(),
    gitref: text('Branch or commit.').meta({ default: 'master' }).optional(),
    namespace: text('Dist-git namespace: `rpms`, `modules`, `docker`, ...').meta({ default: 'rpms' }).optional(),
    path: files('Files to fetch (directories are not supported).'),
    localpath: files('Where to save each file of `path` (same length).').optional(),
    target_dir: text('Directory for the downloaded files.').optional(),
    baseurl: text('Dist-git server.').meta({ default: 'https://src.fedoraproject.org' }).optional(),
    ignore_missing: flag('Ignore files that do not exist (404).', false).optional(),
  })
  .meta({
    description: 'Downloads files from a dist-git repository. Returns `{downloaded_files}`.',
    ...rulesJsonSchema(PARAM_RULES.distgit),
  });

const ResultsdbParams = z
  .strictObject({
    results: text('ResultYAML text, usually `${exported_output}`.').optional(),
    file: text('Path of a ResultYAML file.').optional(),
  })
  .meta({
    description: 'Reports ResultYAML to ResultsDB (or, with none configured, to ${artifactsdir}/taskotron/results.yml). Returns the ResultYAML it was given; the stored result ids are in the job result.',
    ...rulesJsonSchema(PARAM_RULES.resultsdb),
  });

const XunitParams = z
  .strictObject({
    file: text('xUnit XML file (absolute or relative to the task directory; best in `${artifactsdir}`).'),
    item: text('Item the results are about.').optional(),
    type: text('Item type.').optional(),
    checkname: text('Check name for the results.').optional(),
    aggregation: z
      .enum(['allpass', 'none'])
      .meta({ description: '`allpass`: one result, PASSED iff all passed; `none`: one result per testcase.', default: 'allpass' })
      .optional(),
  })
  .meta({ description: 'Converts xUnit XML into ResultYAML (the return value).' });

const ExitcodeParams = z
  .strictObject({
    result_last: text("ResultYAML; the last result's outcome decides.").optional(),
    result_worst: text('ResultYAML; the worst outcome decides.').optional(),
  })
  .meta({
    description: 'Sets the exit code of the job: 0 on success, 100 on failure; the worst exit code wins.',
    ...rulesJsonSchema(PARAM_RULES.exitcode),
  });

const CreaterepoParams = z
  .strictObject({ repodir: text('Directory of RPMs, relative to the task directory.') })
  .meta({ description: 'Runs createrepo_c on a directory. Returns its output.' });

const YumrepoinfoParams = z
  .strictObject({
    koji_tag: text('Koji tag such as `f20-updates` or `rawhide` (a `-pending` suffix is ignored).'),
    arch: arches('Arch or arches (at least one real arch).'),
  })
  .meta({ description: 'Looks up repository URLs. Returns `{tag: {arch: url}}` including parent repositories.' });

const CreateReportParams = z
  .strictObject({
    results: text('ResultYAML text.').optional(),
    file: text('Path of a ResultYAML file.').optional(),
    artifactsdir: text('Artifacts directory, usually `${artifactsdir}`.'),
    path: text('Report file, relative to `artifactsdir`.').meta({ default: 'report.html' }).optional(),
    template: text('Jinja2 template for the report.').optional(),
  })
  .meta({ description: 'Writes an HTML report of the results.', ...rulesJsonSchema(PARAM_RULES.create_report) });

const DummyParams = z
  .strictObject({
    result: text('`FAIL` (any case) makes the action fail; anything else passes.'),
    msg: text('Returned as the output.').optional(),
  })
  .meta({ description: 'Does nothing; for testing formulas.' });

/** Parameter schema of every directive. */
export const DIRECTIVE_PARAMS = {
  python: PythonParams,
  shell: ShellParams,
  koji: KojiParams,
  bodhi: BodhiParams,
  distgit: DistgitParams,
  resultsdb: ResultsdbParams,
  xunit: XunitParams,
  exitcode: ExitcodeParams,
  createrepo: CreaterepoParams,
  yumrepoinfo: YumrepoinfoParams,
  create_report: CreateReportParams,
  dummy: DummyParams,
} satisfies Record<DirectiveName, z.ZodType>;

/** Parameters of each directive as written in the formula (before substitution). */
export type DirectiveParams = { [D in DirectiveName]: z.infer<(typeof DIRECTIVE_PARAMS)[D]> };

/** Directive names that are no longer directives, with what to say about them. */
export const DEPRECATED_DIRECTIVES: Readonly<Record<string, DirectiveName>> = { bash: 'shell' };
export const RETIRED_DIRECTIVES: Readonly<Record<string, string>> = {
  mash: "'mash' existed only in libtaskotron 0.3 and is not supported; build repositories with 'createrepo'",
};

// ---- actions and the file ---------------------------------------------------------------------

const RetrySchema = z
  .strictObject({
    attempts: z
      .int({ error: 'expected a whole number of attempts' })
      .min(1, { error: 'attempts must be at least 1' })
      .max(100, { error: 'attempts must be at most 100' })
      .meta({ description: 'Total attempts including the first (1 = no retry).' }),
    backoff: DurationSchema.meta({ description: 'Wait before the first retry; doubles after each failure.', default: '10s' }).optional(),
    max_backoff: DurationSchema.meta({ description: 'Longest wait between attempts.' }).optional(),
  })
  .meta({ description: 'Extension: retry the action when it fails.' });

const directiveKeys = Object.fromEntries(
  DIRECTIVE_NAMES.map((d) => [d, DIRECTIVE_PARAMS[d].optional()]),
) as { [D in DirectiveName]: z.ZodOptional<(typeof DIRECTIVE_PARAMS)[D]> };

export const ACTION_KEYS = ['name', 'export', 'timeout', 'retry'] as const;

export const ActionSchema = z
  .strictObject({
    name: z.string().min(1, { error: 'an action name must not be empty' }).meta({ description: 'Label of the step, shown in logs and the UI.' }),
    export: z
      .string()
      .regex(identifier, { error: 'expected a variable name (letters, digits and _, not starting with a digit)' })
      .meta({ description: "Name of a variable that holds this action's output for later actions." })
      .optional(),
    timeout: DurationSchema.meta({ description: "Extension: time limit for this action (default: the job's remaining time)." }).optional(),
    retry: RetrySchema.optional(),
    ...directiveKeys,
    bash: ShellParams.meta({ description: "Deprecated name of 'shell' (libtaskotron 0.4.12–0.4.14).", deprecated: true }).optional(),
  })
  .meta({
    id: 'action',
    description: 'One step: a name and exactly one directive key with its parameters.',
    oneOf: [...DIRECTIVE_NAMES, 'bash'].map((d) => ({ required: [d] })),
  });

export const FormulaFileSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected a task name of letters, digits, ., _ and -' })
      .meta({ description: 'Task name; the check name for results that name none.' }),
    desc: z.string().meta({ description: 'What the task checks.' }),
    maintainer: z.string().meta({ description: 'FAS account of the owner.' }),
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected a namespace such as dist, pkg or scratch' })
      .meta({ description: 'ResultsDB namespace of the results, e.g. `dist`, `pkg`, `scratch`.' })
      .optional(),
    input: z
      .strictObject({
        args: z
          .array(z.enum(INPUT_ARG_NAMES))
          .meta({ description: 'Arguments the task needs: its item type (e.g. `koji_build`) and/or `arch`.' }),
      })
      .meta({ description: 'What the job must provide.' }),
    environment: z
      .strictObject({
        rpm: z.array(z.string().min(1)).meta({ description: 'RPM package names or file paths the task needs.' }).optional(),
      })
      .meta({ description: 'What must be installed on the runner.' })
      .optional(),
    timeout: DurationSchema.meta({ description: 'Extension: time limit for the whole job (default 2h).' }).optional(),
    actions: z.array(ActionSchema).min(1, { error: 'expected at least one action' }).meta({ description: 'The steps, run in order.' }).optional(),
    task: z
      .array(ActionSchema)
      .min(1, { error: 'expected at least one action' })
      .meta({ description: "Deprecated (2014) name of 'actions'.", deprecated: true })
      .optional(),
  })
  .meta({
    title: 'Taskotron task formula (runtask.yml)',
    description: 'A Taskotron task: metadata and the actions that run it.',
    oneOf: [{ required: ['actions'] }, { required: ['task'] }],
  });

export type FormulaFile = z.infer<typeof FormulaFileSchema>;

/** JSON Schema of runtask.yml, generated from the zod schemas above. */
export function formulaJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(FormulaFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
