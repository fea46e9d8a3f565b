import { startStandIn, fixedTokenCredential } from "../test/fleet/arm-standin";
import { mockFleet } from "../test/fleet/mock-fleet";
import { runFleet } from "../src/cli/fleet";
(async () => {
  const s = await startStandIn(mockFleet());
  const argv = process.argv.slice(2);
  const out: string[] = [], err: string[] = [];
  const code = await runFleet(argv, { out: (x) => out.push(x), err: (x) => err.push(x) }, { credential: fixedTokenCredential, endpoint: s.url, ca: s.ca, progress: { isTTY: false, write: () => 0 } });
  process.stdout.write(out.join(""));
  if (err.length) process.stdout.write("stderr: " + err.join("\n") + "\n");
  process.stdout.write(`exit ${code}\n`);
  await s.close();
})();
