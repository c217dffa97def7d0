// Preloaded (`node --import`) into a CLI process by tests that check what a command loads: at exit it
// writes how many modules of the Temporal SDK the process loaded (CommonJS, so all in require's cache).
import { createRequire } from 'node:module';
import process from 'node:process';

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const loaded = Object.keys(cache).filter((file) => file.includes('/@temporalio/')).length;
  process.stderr.write(`# @temporalio modules loaded: ${loaded}\n`);
});
