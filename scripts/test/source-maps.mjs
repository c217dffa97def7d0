// Preloaded (--import) into every test-file process of `npm test` in place of Node's
// --enable-source-maps. Node's flag reads and parses the source map of every module the process
// loads as it loads it — the Temporal SDK ships ~175 .js.map files — which cost each test-file
// process 0.2–0.6 s of CPU (some 20 s per run, docs/PERFORMANCE.md) for maps that are only read
// when a stack trace is printed. source-map-support maps a stack when it is formatted, and only the
// frames of the run's transpiled src/ and test/ files (scripts/test/transpile.ts), whose maps are
// inline: a failure still names the .ts file and line. SDK frames stay as the published JavaScript.
// Plain JavaScript: it is loaded before the test file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sourceMapSupport from 'source-map-support';

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

sourceMapSupport.install({
  environment: 'node',
  handleUncaughtExceptions: false,
  overrideRetrieveSourceMap: true,
  retrieveSourceMap(source) {
    if (!source.includes('/.cache/test-build/')) return null;
    try {
      const path = source.startsWith('file:') ? fileURLToPath(source) : source;
      const match = INLINE_MAP.exec(readFileSync(path, 'utf8'));
      return match ? { url: path, map: Buffer.from(match[1], 'base64').toString('utf8') } : null;
    } catch {
      // A build already removed (the run is ending): the stack keeps its JavaScript positions.
      return null;
    }
  },
});
