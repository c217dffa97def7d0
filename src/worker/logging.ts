import { DefaultLogger, Runtime, type LogLevel, type LogEntry } from '@temporalio/worker';

// A runner runs a workflow-only worker and activity-only workers by design (runner-worker.ts), so the
// SDK's "nothing registered, not polling" warnings say nothing an operator needs to act on.
const EXPECTED = [/^No activities registered, not polling/, /^No workflows registered, not polling/];

let installed = false;

/**
 * Installs the Temporal runtime's logger once per process, at the given level. By default the
 * runtime turns SIGINT/SIGTERM into a shutdown of every worker; `handleSignals: false` leaves the
 * signals to the caller (runtask cancels its job first and stops its worker after).
 */
export function installRuntimeLogger(level: LogLevel, options: { handleSignals?: boolean } = {}): void {
  if (installed) return;
  installed = true;
  const plain = new DefaultLogger(level);
  Runtime.install({
    ...(options.handleSignals === false ? { shutdownSignals: [] } : {}),
    logger: new DefaultLogger(level, (entry: LogEntry) => {
      if (EXPECTED.some((pattern) => pattern.test(entry.message))) return;
      plain.log(entry.level, entry.message, entry.meta);
    }),
  });
}

/** For bundleWorkflowCode: webpack's progress chatter off, its warnings and errors kept. */
export const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.error(message);
  },
  error(message: string) {
    console.error(message);
  },
};
