// The task formula as the rest of the product sees it: plain, JSON-serialisable data (it is stored
// in Temporal workflow history), normalised from runtask.yml by parseFormula(). Pure: no imports.
import type { Duration } from './duration.js';

/** Every directive of the formula era (reference §1.5), in the order the docs list them. */
export const DIRECTIVE_NAMES = [
  'python',
  'shell',
  'koji',
  'bodhi',
  'distgit',
  'resultsdb',
  'xunit',
  'exitcode',
  'createrepo',
  'yumrepoinfo',
  'create_report',
  'dummy',
] as const;
export type DirectiveName = (typeof DIRECTIVE_NAMES)[number];

/** `--type` values and what they name (reference §1.9). */
export const ITEM_TYPES = [
  'bodhi_update',
  'compose',
  'dist_git_commit',
  'docker_image',
  'git_commit',
  'koji_build',
  'koji_tag',
  'module_build',
  'pull_request',
] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** Names allowed in `input.args`: the item under its type's name, or `arch`. */
export const INPUT_ARG_NAMES = [...ITEM_TYPES, 'arch'] as const;
export type InputArgName = (typeof INPUT_ARG_NAMES)[number];

/** Variables the runner defines for every job (see builtinVariables() in substitute.ts). */
export const BUILTIN_VARIABLE_NAMES = [
  'item',
  'type',
  'item_type',
  'arch',
  'uuid',
  'jobid',
  'artifactsdir',
  'workdir',
  'taskdir',
  'checkname',
  'namespace',
] as const;
export type BuiltinVariableName = (typeof BUILTIN_VARIABLE_NAMES)[number];

/** Our extension: how an action is retried when it fails (maps onto a Temporal retry policy). */
export interface RetryPolicy {
  /** Total attempts including the first one (1 = no retry). */
  attempts: number;
  /** Wait before the first retry; doubles after every further failure. */
  backoff: Duration;
  /** Upper bound for the wait between attempts. */
  maxBackoff?: Duration;
}

export interface Action {
  name: string;
  directive: DirectiveName;
  /** The directive's parameters as written (validated; `${var}` references not yet substituted). */
  params: unknown;
  /** Variable name under which the directive's return value is visible to later actions. */
  export?: string;
  /** Our extension: time limit for this action. */
  timeout?: Duration;
  /** Our extension: retry the action on failure. */
  retry?: RetryPolicy;
}

export interface Formula {
  name: string;
  desc: string;
  maintainer: string;
  namespace?: string;
  input: { args: InputArgName[] };
  environment?: { rpm?: string[] };
  /** Our extension: time limit for the whole job. */
  timeout?: Duration;
  actions: Action[];
}
