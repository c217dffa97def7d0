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

/** Directives of the formula language this runner does not run yet: fail loudly, never pass silently. */
export const UNAVAILABLE_DIRECTIVES = ['koji', 'bodhi', 'distgit', 'createrepo', 'yumrepoinfo'] as const;

export function unavailable(directive: string, request: ActionRequest): never {
  throw stepFailure(
    FailureType.DirectiveNotAvailable,
    `action '${request.name}': the '${directive}' directive is not available on this runner yet (it needs a Koji/Bodhi/dist-git integration that has not landed)`,
  );
}
