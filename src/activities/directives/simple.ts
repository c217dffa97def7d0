// Directives with no process behind them.
import { FailureType, stepFailure } from '../../common/failures.js';
import type { ActionOutput, ActionRequest } from './context.js';

/** `dummy`: passes, or fails when told `result: FAIL` (any case); returns `msg`. For testing formulas. */
export function runDummyAction(request: ActionRequest<{ result: string; msg?: string }>): ActionOutput {
  const started = Date.now();
  if (String(request.params.result).toUpperCase() === 'FAIL') {
    throw stepFailure(FailureType.DirectiveFailed, `action '${request.name}': dummy directive told to fail${request.params.msg ? `: ${request.params.msg}` : ''}`);
  }
  return { ...(request.exported ? { output: request.params.msg ?? null } : {}), durationMs: Date.now() - started };
}
