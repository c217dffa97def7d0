// A real Compose implementation's loader for tests on a machine with no Docker engine: compose-go
// (the Compose Specification's reference loader, which `docker compose` itself uses), wrapped by
// scripts/compose-config and built once from the Go module proxy into .cache/. Without Go this
// fails, never skips. On a machine whose Go caches are cold the build is ~20 s of CPU: `npm test`
// starts it at its own start (buildComposeConfig), while it waits for the Temporal CLI's download,
// and test/deploy/compose.test.ts waits for that build (composeConfigReady) instead of building
// a second copy in the middle of the run.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/devserver/project.js';
import { processAlive } from './processes.js';

const BUILD_TIMEOUT_MS = 600_000;

interface Plan {
  source: string;
  binary: string;
  /** go's arguments and options that build the binary into `staging`. */
  build(staging: string): { args: string[]; cwd: string; env: NodeJS.ProcessEnv };
}

function plan(): Plan {
  const source = join(projectRoot(), 'scripts', 'compose-config');
  const version = /compose-spec\/compose-go\/v2 (v[0-9.]+)/.exec(readFileSync(join(source, 'go.mod'), 'utf8'))?.[1];
  if (!version) throw new Error('scripts/compose-config/go.mod names no compose-go version');
  const binary = join(projectRoot(), '.cache', 'compose-config', version, 'compose-config');
  return {
    source,
    binary,
    build: (staging) => ({
      args: ['build', '-o', staging, '.'],
      cwd: source,
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -mod=readonly', CGO_ENABLED: '0' },
    }),
  };
}

/** Present while `npm test`'s harness builds the binary; holds the harness's pid. */
const markerPath = (binary: string) => `${binary}.building`;

function harnessBuilding(binary: string): boolean {
  try {
    return processAlive(Number(readFileSync(markerPath(binary), 'utf8')));
  } catch {
    return false;
  }
}

function requireGo(): void {
  if (spawnSync('go', ['version']).status !== 0) throw new Error('the go command is missing: it builds scripts/compose-config (compose-go) to validate docker-compose.yml');
}

/** The compose-config binary, built first (synchronously) when it is missing. */
export function ensureComposeConfig(): string {
  const { binary, build } = plan();
  if (existsSync(binary)) return binary;
  requireGo();
  mkdirSync(join(binary, '..'), { recursive: true });
  const staging = `${binary}.partial-${process.pid}`;
  const { args, cwd, env } = build(staging);
  execFileSync('go', args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(staging, binary);
  return binary;
}

/**
 * `npm test`'s build, started before the first file and not waited for by the harness. Rejects with
 * go's own output; a file that then needs the binary builds it itself and fails with that output.
 */
export async function buildComposeConfig(): Promise<string | undefined> {
  const { binary, build } = plan();
  if (existsSync(binary)) return undefined;
  requireGo();
  mkdirSync(join(binary, '..'), { recursive: true });
  const marker = markerPath(binary);
  writeFileSync(marker, String(process.pid));
  const staging = `${binary}.partial-${process.pid}`;
  try {
    const { args, cwd, env } = build(staging);
    await promisify(execFile)('go', args, { cwd, env, timeout: BUILD_TIMEOUT_MS });
    renameSync(staging, binary);
    return binary;
  } finally {
    rmSync(staging, { force: true });
    rmSync(marker, { force: true });
  }
}

/** Waits while `npm test`'s harness builds the binary (bounded by go's timeout); then ensureComposeConfig. */
export async function composeConfigReady(): Promise<string> {
  const { binary } = plan();
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  while (!existsSync(binary) && harnessBuilding(binary) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  return ensureComposeConfig();
}

export interface ComposeService {
  image?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  volumes?: Array<{ type: string; source?: string; target: string; read_only?: boolean }>;
  ports?: Array<{ target: number; published?: string; host_ip?: string }>;
  depends_on?: Record<string, { condition: string }>;
  container_name?: string;
  build?: { context: string; dockerfile: string };
  healthcheck?: { test: string[] };
}

export interface ComposeProject {
  name: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** The project exactly as compose-go loads, validates, interpolates and normalizes it. */
export function loadCompose(file: string, env: NodeJS.ProcessEnv = {}): ComposeProject {
  const out = execFileSync(ensureComposeConfig(), [file], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, cwd: projectRoot() });
  return JSON.parse(out) as ComposeProject;
}
