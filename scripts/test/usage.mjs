// Preloaded (--import) into every test-file process of `npm test`: on exit it writes that process's
// CPU time, the CPU time of the processes it spawned and waited for (CLI runs, workers, rpmbuild…),
// its peak RSS and its wall time, so the harness can say which files cost the run its minutes.
// Other processes (the runner itself, anything a test spawns) have no NODE_TEST_CONTEXT or no
// TASKOTRON_TEST_USAGE_DIR and are left alone. Plain JavaScript: worker threads (Temporal's workflow
// threads) inherit the --import and may not have tsx's loader when they load it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.TASKOTRON_TEST_USAGE_DIR;
const file = process.argv[1];
if (isMainThread && dir && file && process.env.NODE_TEST_CONTEXT !== undefined) {
  process.once('exit', () => {
    const usage = process.resourceUsage();
    // /proc/self/stat fields 16 and 17: CPU of waited-for children, in clock ticks (USER_HZ, 100 on Linux).
    let childrenCpuMs = 0;
    try {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      childrenCpuMs = (Number(fields[13]) + Number(fields[14])) * 10;
    } catch {
      // Not Linux: the file's own CPU time is still worth reporting.
    }
    const record = {
      file,
      wallMs: Math.round(process.uptime() * 1000),
      cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
      childrenCpuMs,
      maxRssMb: Math.round(usage.maxRSS / 1024),
    };
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(record));
  });
}
