// A real Compose implementation's loader for tests on a machine with no Docker engine: compose-go
// (the Compose Specification's reference loader, which `docker compose` itself uses), wrapped by
// scripts/compose-config and built once from the Go module proxy into .cache/. Without Go this
// fails, never skips.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/devserver/project.js';

export function ensureComposeConfig(): string {
  const source = join(projectRoot(), 'scripts', 'compose-config');
  const version = /compose-spec\/compose-go\/v2 (v[0-9.]+)/.exec(readFileSync(join(source, 'go.mod'), 'utf8'))?.[1];
  if (!version) throw new Error('scripts/compose-config/go.mod names no compose-go version');
  const binary = join(projectRoot(), '.cache', 'compose-config', version, 'compose-config');
  if (existsSync(binary)) return binary;
  if (spawnSync('go', ['version']).status !== 0) throw new Error('the go command is missing: it builds scripts/compose-config (compose-go) to validate docker-compose.yml');
  mkdirSync(join(binary, '..'), { recursive: true });
  const staging = `${binary}.partial-${process.pid}`;
  execFileSync('go', ['build', '-o', staging, '.'], {
    cwd: source,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -mod=readonly', CGO_ENABLED: '0' },
  });
  renameSync(staging, binary);
  return binary;
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
