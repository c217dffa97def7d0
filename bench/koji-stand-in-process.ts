// The Koji stand-in in a process of its own, for benchmarks: serving from the benchmark's own event
// loop would charge the server's work to whatever is measured there. Reads the builds as JSON on
// argv[2], prints `<hubUrl> <pkgUrl>` once listening, serves until stdin closes.
import { startKojiStandIn, type StandInBuild } from '../test/support/koji-hub-server.js';

const builds = JSON.parse(process.argv[2] ?? '[]') as StandInBuild[];
const koji = await startKojiStandIn();
for (const build of builds) koji.addBuild(build);
console.log(`${koji.hubUrl} ${koji.pkgUrl}`);
process.stdin.resume();
process.stdin.on('end', () => void koji.close().then(() => process.exit(0)));
