import * as fs from "fs";
import { runAudit } from "../src/cli/audit";
const code = runAudit(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), readFile: (p) => fs.readFileSync(p, "utf8") });
process.stdout.write(`[exit ${code}]\n`);
