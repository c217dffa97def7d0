// `taskotron start`'s run (its options: start.ts): the embedded stack, in the foreground until a signal.
import { relative } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { WORKFLOW_QUEUE } from '../common/queues.js';
import { startStack, type Stack } from '../devserver/stack.js';
import { takenPorts } from '../devserver/ports.js';
import { projectRoot } from '../devserver/project.js';
import type { probeRunnerPool } from '../workflows/probe.js';
import type { StartOptions } from './start.js';

/**
 * True once the ingest's ZeroMQ socket on `endpoint` completes a handshake with a probe. A bare TCP
 * connect (what this was) ends before ZeroMQ's greeting, and the ingest counted every `npm start` as
 * a failed handshake (fedmsg.handshake-failures, taskotron_bus_events). The probe is a publisher that
 * sends nothing: the ingest counts one connection and one disconnect, which is what happened.
 * ZeroMQ re-dials until the ingest has bound, so this waits for an event, not in a loop.
 */
export async function waitForIngest(endpoint: string, timeoutMs: number): Promise<boolean> {
  const { Publisher } = await import('zeromq');
  const probe = new Publisher({ linger: 0 });
  let timer: NodeJS.Timeout | undefined;
  try {
    const shook = new Promise<boolean>((resolve) => {
      probe.events.on('handshake', () => resolve(true));
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    probe.connect(endpoint);
    return await shook;
  } finally {
    clearTimeout(timer);
    probe.close();
  }
}

/** Starts the stack, proves it with a probe job, and keeps it up until SIGINT, SIGTERM or SIGHUP. */
export async function runStart(options: StartOptions): Promise<void> {
  // Refuse at once when a port is taken (an orphaned server, another stack): starting over it
  // would print "ready" for a server that is not ours.
  const taken = await takenPorts([
    { port: options.port, what: 'Temporal gRPC', flag: '--port' },
    { port: options.uiPort, what: 'Temporal Web UI', flag: '--ui-port' },
    ...(options.ingest ? [{ port: options.fedmsgPort, what: 'ingest fedmsg endpoint', flag: '--fedmsg-port' }] : []),
  ]);
  if (taken.length > 0) {
    for (const line of taken) console.error(`taskotron start: ${line}`);
    process.exitCode = 1;
    return;
  }
  // Signals are ours from the first moment: whatever has started by the time Ctrl-C or SIGTERM
  // arrives is stopped, in order, before we exit (issue 11: a SIGINT before the banner used to
  // end the supervisor and leave the Temporal server running).
  const abort = new AbortController();
  let stack: Stack | undefined;
  let exitCode = 0;
  let stopping = false;
  const starting = startStack({
    port: options.port,
    uiPort: options.uiPort,
    arch: options.arch,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    fedmsgPort: options.ingest ? options.fedmsgPort : false,
    cliCommand: [process.execPath, ...process.execArgv, process.argv[1]!],
    signal: abort.signal,
  });
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\ntaskotron: ${signal} received, stopping ingest, worker and Temporal server…`);
    abort.abort(new Error(`${signal} during start-up`));
    void starting
      .then((started) => started.stop(), () => undefined)
      .then(() => process.exit(exitCode));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => shutdown(signal));
  try {
    stack = await starting;
  } catch (error) {
    if (stopping) return; // shutdown() exits once everything is down
    throw error;
  }
  if (stopping) return;
  void stack.firstExit.then((name) => {
    if (stopping) return;
    console.error(`taskotron: ${name} exited unexpectedly; stopping the stack`);
    exitCode = 1;
    shutdown('exit');
  });

  console.error(`Temporal server  ${stack.server.address} (namespace ${stack.server.namespace})`);
  console.error(`Temporal Web UI  ${stack.server.uiUrl}`);
  // Prove the loop works end to end before saying "ready": one probe job through the runner pool.
  const connection = await Connection.connect({ address: stack.server.address });
  try {
    const client = new Client({ connection, namespace: stack.server.namespace });
    const host = await client.workflow.execute<typeof probeRunnerPool>('probeRunnerPool', {
      taskQueue: WORKFLOW_QUEUE,
      workflowId: `probe-${options.arch}-${Date.now()}`,
      args: [{ arch: options.arch }],
      workflowExecutionTimeout: '2 minutes',
    });
    console.error(`Runner ready     ${host.hostname} (${host.arch}, ${host.cpus} cpus) on queue ${host.taskQueue}`);
  } catch (error) {
    if (!stopping) console.error(`taskotron: runner probe failed: ${(error as Error).message}`);
  } finally {
    await connection.close();
  }
  if (stopping) return;
  if (stack.fedmsgEndpoint) {
    if (await waitForIngest(stack.fedmsgEndpoint, 60_000)) {
      const example = relative(process.cwd(), `${projectRoot()}/examples/messages/koji-build-completed.json`);
      const portFlag = options.fedmsgPort === 9941 ? '' : ` --endpoint ${stack.fedmsgEndpoint}`;
      console.error(`Ingest ready     ${stack.fedmsgEndpoint} (rules ${relative(process.cwd(), stack.rulesFile ?? '')})`);
      console.error(`                 try: npx taskotron publish${portFlag} ${example}`);
    } else {
      console.error(`taskotron: ingest did not bind ${stack.fedmsgEndpoint} within 60 s`);
    }
  }
  if (stack.artifactsUrl) console.error(`Artifacts        ${stack.artifactsUrl}`);
  if (stack.metrics.ingest || stack.metrics.runner) {
    console.error(`Metrics          ${[stack.metrics.ingest && `ingest ${stack.metrics.ingest}`, stack.metrics.runner && `runner ${stack.metrics.runner}`].filter(Boolean).join(', ')}`);
  }
  if (!stopping) console.error('Press Ctrl-C to stop.');
}
