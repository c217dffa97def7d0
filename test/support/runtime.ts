import { installRuntimeLogger } from '../../src/worker/logging.js';

/** Workers in tests log only errors: tests provoke failures on purpose and the SDK warns of each. */
export function quietRuntime(): void {
  installRuntimeLogger('ERROR');
}
