// Public URLs of a job's artifacts: `<artifacts.base_url>/<uuid>/<path inside the job's artifactsdir>`,
// the layout `taskotron artifacts serve` (and any web server over the artifacts directory) answers.
import { isAbsolute, relative, sep } from 'node:path';

/** Where `taskotron artifacts serve` listens unless told otherwise (artifacts.listen's default too). */
export const DEFAULT_ARTIFACTS_LISTEN = '127.0.0.1:9470';

/** The job's artifacts root URL, ending in `/`. */
export function jobArtifactsUrl(baseUrl: string, uuid: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(uuid)}/`;
}

/** URL of a file in the job's artifacts directory; undefined for a path outside it. */
export function artifactUrl(baseUrl: string, uuid: string, artifactsdir: string, path: string): string | undefined {
  const inside = relative(artifactsdir, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
  return `${jobArtifactsUrl(baseUrl, uuid)}${inside.split(sep).map(encodeURIComponent).join('/')}`;
}
