import { installRuntimeLogger } from '../../src/worker/logging.js';

/** Workers in tests log only warnings; the SDK's INFO lines would bury the test report. */
export function quietRuntime(): void {
  installRuntimeLogger('WARN');
}
