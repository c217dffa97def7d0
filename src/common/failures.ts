// The named ways a job step fails, each mapped once onto a Temporal ApplicationFailure type. The
// workflow classifies by these types: infrastructure trouble is retried, task trouble is not (unless
// the formula asks for `retry:`), and a few things can never get better by retrying.
// Pure: workflow code imports the type names to classify failures.
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  /** runtask.yml is missing or invalid. */
  InvalidFormula: 'InvalidFormula',
  /** environment.rpm names packages this host does not have. */
  MissingDependencies: 'MissingDependencies',
  /** Another job already owns this uuid's artifacts directory. */
  DuplicateJob: 'DuplicateJob',
  /** Cloning or fetching the task repository failed (retried: mirrors and networks recover). */
  CheckoutFailed: 'CheckoutFailed',
  /** A task command exited non-zero (retried only when the formula says `retry:`). */
  CommandFailed: 'CommandFailed',
  /** A directive raised, e.g. a python callable threw or `dummy` was told to FAIL. */
  DirectiveFailed: 'DirectiveFailed',
  /** Bad parameters reached a directive at run time (e.g. a file that is not there). */
  InvalidParameters: 'InvalidParameters',
  /** The directive exists in the formula language but this runner cannot run it yet. */
  DirectiveNotAvailable: 'DirectiveNotAvailable',
  /** A Koji build or tag, Bodhi update or dist-git file that does not exist: retrying cannot help. */
  NotFound: 'NotFound',
  /** Koji, Bodhi, dist-git or the package server kept failing (5xx, network, truncated files) after
   *  the directive's own retries: infrastructure trouble, retryable. */
  ServiceUnavailable: 'ServiceUnavailable',
  /** An action's output is too big to carry in workflow history. */
  OutputTooLarge: 'OutputTooLarge',
  /** The runner host is shutting down and killed the step: the job moves to another host. */
  HostShuttingDown: 'HostShuttingDown',
  /** Job-level: the job crashed (no usable result); details carry the JobResult. */
  JobCrashed: 'JobCrashed',
  /** Job-level: the job ran out of time; details carry the JobResult. */
  JobAborted: 'JobAborted',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Failures retrying cannot fix; the workflow lists them in every infrastructure retry policy. */
export const NON_RETRYABLE: FailureTypeName[] = [
  FailureType.InvalidFormula,
  FailureType.MissingDependencies,
  FailureType.DuplicateJob,
  FailureType.InvalidParameters,
  FailureType.DirectiveNotAvailable,
  FailureType.NotFound,
  FailureType.OutputTooLarge,
];

export interface StepFailureDetails {
  /** Where the full log is on the runner host. */
  log?: string;
  /** The same log on the web, when artifacts.base_url is configured. */
  logUrl?: string;
  /** Its last lines, so the Temporal UI shows why without a trip to the host. */
  logTail?: string;
  exitCode?: number;
  [key: string]: unknown;
}

export function stepFailure(type: FailureTypeName, message: string, details: StepFailureDetails = {}): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE.includes(type),
    details: [details],
  });
}
