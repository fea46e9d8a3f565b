import { decodeSettings, guestScript } from "../src/guest/render";
import { RUN_COMMAND_TIMEOUT_SECONDS } from "../src/vm/kmsActivation";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import * as path from "path";
import { emptyRouteTablesAndNsgs, guestArguments, mockedPackage, plainStrings, secretValue, valueOf } from "./harness";

const t = mockedPackage(emptyRouteTablesAndNsgs);

const CSE = "azure-native:compute:VirtualMachineExtension";
const RUN = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine";
// What the Run Command ships: activate.ps1 in the bootstrap that stops PowerShell 2.0 with a result line.
const SCRIPT = guestScript(readFileSync(path.join(__dirname, "..", "src", "guest", "activate.ps1"), "utf8"));
// KMS client keys: any other key is refused before it reaches a guest.
const USER_KEY = "VDYBN-27WPP-V4HQT-9VMD4-VMK7H";

describe("KmsActivation", () => {
    test("CustomScriptExtension by default: one extension, the command a secret in protectedSettings", async () => {
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", location: "westeurope" });
        await t.h.settle();
        expect(t.h.summary()).toEqual(["azure-kms-activation:index:KmsActivation act", `${CSE} act-extension`]);
        const inputs = t.h.one(CSE).inputs;
        expect(inputs).toMatchObject({
            resourceGroupName: "rg",
            vmName: "vm-01",
            location: "westeurope",
            vmExtensionName: "KmsActivation",
            publisher: "Microsoft.Compute",
            type: "CustomScriptExtension",
            typeHandlerVersion: "1.10",
            autoUpgradeMinorVersion: true,
        });
        expect(inputs.settings).toBeUndefined();
        const command: string = secretValue(inputs.protectedSettings).commandToExecute;
        expect(command.startsWith("powershell.exe ")).toBe(true);
        expect(command.length).toBeLessThanOrEqual(t.m.MAX_COMMAND_LENGTH);
        const expected = t.m.renderActivationScript({});
        expect(command).toBe(expected.commandToExecute);
        expect(inputs.forceUpdateTag).toBe(expected.fingerprint);
        expect(await valueOf(activation.kmsEndpoint)).toBe("azkms.core.windows.net:1688");
        expect(await valueOf(activation.keySource)).toBe("detected");
    });

    test("RunCommand: the script as shipped, arguments as parameters, the key as a protected parameter", async () => {
        new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", mechanism: t.m.ActivationMechanism.RunCommand, productKey: USER_KEY, cloud: t.m.AzureCloud.AzureChina });
        await t.h.settle();
        expect(t.h.summary()).toEqual(["azure-kms-activation:index:KmsActivation act", `${RUN} act-run-command`]);
        const inputs = t.h.one(RUN).inputs;
        expect(inputs).toMatchObject({
            resourceGroupName: "rg",
            vmName: "vm-01",
            runCommandName: "KmsActivation",
            source: { script: SCRIPT },
            asyncExecution: false,
            treatFailureAsDeploymentFailure: true,
            timeoutInSeconds: RUN_COMMAND_TIMEOUT_SECONDS,
        });
        expect(inputs.parameters).toEqual([{ name: "Settings", value: expect.stringMatching(/^[0-9a-f]+$/) }]);
        expect(decodeSettings((inputs.parameters as { value: string }[])[0].value)).toEqual({
            kmsHosts: ["azkms.core.chinacloudapi.cn"],
            kmsPort: 1688,
            kmsAddresses: ["159.27.28.100", "163.228.64.161", "42.159.7.249"],
            keySource: "explicit",
            detectionTable: [],
            configureFirewall: true,
            failOnActivationError: false,
            runTag: "",
        });
        // Longer than the script's worst case (measured by the guest behaviour suite), shorter than the 90-min limit.
        expect(RUN_COMMAND_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(1200);
        expect(secretValue(inputs.protectedParameters)).toEqual([{ name: "ProductKey", value: USER_KEY }]);
    });

    test("a user key given as plain text is made secret everywhere", async () => {
        new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", productKey: USER_KEY });
        await t.h.settle();
        for (const r of t.h.registrations) {
            expect(plainStrings(r.inputs).filter((s) => s.includes(USER_KEY))).toEqual([]);
        }
        for (const outputs of t.h.componentOutputs.values()) {
            expect(JSON.stringify(outputs)).not.toContain(USER_KEY);
        }
        expect(guestArguments(secretValue(t.h.one(CSE).inputs.protectedSettings).commandToExecute)).toContain(USER_KEY);
    });

    test("forceUpdateTag: same options, same tag; a rerun token or another host form re-runs; another key does not change the tag", async () => {
        const tagOf = async (args: Partial<import("../src").KmsActivationArgs>) => {
            t.h.reset();
            new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", ...args });
            await t.h.settle();
            return t.h.one(CSE).inputs.forceUpdateTag;
        };
        const base = await tagOf({});
        expect(await tagOf({})).toBe(base);
        expect(await tagOf({ rerunToken: "2026-12-01" })).not.toBe(base);
        expect(await tagOf({ kmsHostForm: t.m.KmsHostForm.IpAddress })).not.toBe(base);
        expect(await tagOf({ productKey: USER_KEY })).toBe(await tagOf({ productKey: "WX4NM-KYWYW-QJJR4-XV3QB-6VM33" }));
    });

    test("waits for the resources behind activationWaitsFor", async () => {
        const egress = new t.m.KmsEgressRules("egress", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg" });
        new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", activationWaitsFor: egress.egressRuleIds });
        await t.h.settle();
        const deps = t.h.one(CSE).dependencies.map((u) => t.h.byUrn(u)?.name).sort();
        expect(deps).toEqual(["egress-route-20-118-99-224", "egress-route-23-102-135-246", "egress-route-40-83-235-53", "egress-rule"]);
    });

    test("takes Inputs: host form and SKU from Outputs", async () => {
        const activation = new t.m.KmsActivation("act", {
            resourceGroupName: pulumi.output("rg"),
            vmName: pulumi.output("vm-01"),
            kmsHostForm: pulumi.output(t.m.KmsHostForm.IpAddress),
            imageSku: pulumi.output("2019-Datacenter-Core"),
        });
        await t.h.settle();
        expect(await valueOf(activation.kmsEndpoint)).toBe("20.118.99.224:1688");
        expect(await valueOf(activation.keySource)).toBe("imageSku");
        expect(guestArguments(secretValue(t.h.one(CSE).inputs.protectedSettings).commandToExecute)).toContain("ProductKey='WMDGN-G9PQG-XVVXX-R3X43-63DFG'");
    });
});
