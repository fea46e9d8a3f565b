import { spawnSync } from "child_process";
import * as path from "path";

// examples/fleet-remediation writes priority 200 into nsg-spoke-a, an NSG that exists. The NSG is read before the
// rule is added: here someone's rule already holds 200, and the program is refused before anything reaches Azure,
// naming that rule and the nearest free priority (199 is taken too, so 201).
test("fleet-remediation: a priority another rule holds in an existing NSG is refused, naming the rule and the nearest free one", () => {
    const runner = path.join(__dirname, "fleet-remediation-priority.run.ts");
    // Pulumi's runtime complains on exit about the registrations the refusal left pending; stdout has the verdict.
    const run = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", runner], { encoding: "utf8", cwd: path.join(__dirname, "..", "..") });
    expect(run.stdout.trim().split("\n").filter((l) => /^(REFUSED|DEPLOYED)/.test(l))).toEqual([
        'REFUSED: KmsEgressRules "kms-spoke-a": securityRulePriority: 200 is taken in NSG "nsg-spoke-a" by outbound rule "allow-log-analytics" (Allow), and Azure refuses ' +
            "two rules of one direction at one priority. Fix: use 201, the nearest free outbound priority (lower numbers win: keep it below the outbound denies that cover the KMS addresses).",
    ]);
}, 120_000);
