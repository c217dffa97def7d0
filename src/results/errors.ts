// The ways reporting fails, each with the Temporal failure type it becomes (src/activities/report.ts
// does the mapping, once). Pure: workflow code may import the type names from here.
import type { Diagnostic } from '../formula/diagnostic.js';

export const ReportFailure = {
  /** The ResultYAML is malformed or incomplete (file, line, path in the details). Never retried. */
  InvalidResultYaml: 'InvalidResultYaml',
  /** The `file:` the formula names does not exist or cannot be read: the task wrote no results. */
  ResultsFileMissing: 'ResultsFileMissing',
  /** The task may not post into the namespace of one of its results. Never retried. */
  NamespaceNotAllowed: 'NamespaceNotAllowed',
  /** ResultsDB answered 4xx; the message is the server's. Never retried. */
  ResultsDBRejected: 'ResultsDBRejected',
  /** ResultsDB is down, overloaded or unreachable: retried with backoff until the outage budget is spent. */
  ResultsDBUnavailable: 'ResultsDBUnavailable',
} as const;

export type ReportFailureType = (typeof ReportFailure)[keyof typeof ReportFailure];

/** What retrying cannot fix: list these in the activity's retry policy. */
export const NON_RETRYABLE_REPORT_FAILURES: readonly ReportFailureType[] = [
  ReportFailure.InvalidResultYaml,
  ReportFailure.ResultsFileMissing,
  ReportFailure.NamespaceNotAllowed,
  ReportFailure.ResultsDBRejected,
];

export class InvalidResultYaml extends Error {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message);
    this.name = 'InvalidResultYaml';
  }
}

export class ResultsFileMissing extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ResultsFileMissing';
  }
}

export class NamespaceNotAllowed extends Error {
  constructor(
    message: string,
    readonly testcase: string,
    /** Dot-path of the offending result in the ResultYAML, e.g. `results[3]`. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'NamespaceNotAllowed';
  }
}
