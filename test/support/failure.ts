// Awaiting something that must fail with an ApplicationFailure (a step's classified failure), for
// the assertions on its type, message and details.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';

export async function applicationFailure(promise: Promise<unknown>, what = 'the action'): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${what} to fail`);
}
