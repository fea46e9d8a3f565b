// Pulumi's mock engine, recording: every registration (type, name, parent, inputs, dependencies, the options that
// decide replacement and deletion) and every component's registered outputs; reads of network objects the program
// declared are answered from their registrations; other invokes nobody answered throw. Used by the tests and the offline plan.
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

export interface Registration {
    type: string;
    name: string;
    urn: string;
    parentUrn: string;
    custom: boolean;
    inputs: Record<string, unknown>;
    dependencies: string[];
    /** How many aliases the registration carried. */
    aliases: number;
    /** The ID the mock engine gave a custom resource (empty for a component). */
    id: string;
    /** The state the mock engine returned: the inputs, the Azure name and what it computes (a firewall's private IP). */
    outputs: Record<string, unknown>;
    /** The resource options that decide replacement and deletion, as the engine received them. */
    options: RegistrationOptions;
}

/** The options of a registration that decide what `pulumi up` and `pulumi destroy` do to it. */
export interface RegistrationOptions {
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    protect: boolean;
    replaceOnChanges: string[];
    ignoreChanges: string[];
}

export type InvokeMock = (token: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined;

export class Harness {
    readonly registrations: Registration[] = [];
    readonly componentOutputs = new Map<string, unknown>();
    readonly invokes: { token: string; inputs: Record<string, unknown> }[] = [];
    /** What `reset` restores `invokeMock` to: by default nothing is mocked, so every invoke throws. */
    defaultInvoke: InvokeMock = () => undefined;
    invokeMock: InvokeMock = () => undefined;

    /** Waits until every registration the program started has reached the mock engine. */
    async settle(): Promise<void> {
        // Internal but stable: the same wait `pulumi.runtime.disconnect` does before it closes.
        const settings = require("@pulumi/pulumi/runtime/settings");
        await settings.waitForRPCs();
    }

    reset(): void {
        this.registrations.length = 0;
        this.componentOutputs.clear();
        this.invokes.length = 0;
        this.invokeMock = this.defaultInvoke;
    }

    custom(): Registration[] {
        return this.registrations.filter((r) => r.custom);
    }

    ofType(type: string): Registration[] {
        return this.registrations.filter((r) => r.type === type);
    }

    one(type: string): Registration {
        const found = this.ofType(type);
        if (found.length !== 1) {
            throw new Error(`expected one ${type}, found ${found.length}`);
        }
        return found[0];
    }

    /** `type name` of every registration, sorted: the exact child set. */
    summary(filter: (r: Registration) => boolean = () => true): string[] {
        return this.registrations
            .filter(filter)
            .map((r) => `${r.type} ${r.name}`)
            .sort();
    }

    byUrn(urn: string): Registration | undefined {
        return this.registrations.find((r) => r.urn === urn);
    }
}

function providerPath(type: string, name: string, inputs: Record<string, unknown>): string {
    const [, module, kind] = type.split(":");
    const rg = String(inputs.resourceGroupName ?? "rg");
    const base = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers`;
    switch (kind) {
        case "Subnet":
            return `${base}/Microsoft.Network/virtualNetworks/${String(inputs.virtualNetworkName)}/subnets/${name}`;
        case "Route":
            return `${base}/Microsoft.Network/routeTables/${String(inputs.routeTableName)}/routes/${name}`;
        case "SecurityRule":
            return `${base}/Microsoft.Network/networkSecurityGroups/${String(inputs.networkSecurityGroupName)}/securityRules/${name}`;
        case "FirewallPolicy":
            return `${base}/Microsoft.Network/firewallPolicies/${name}`;
        case "FirewallPolicyRuleCollectionGroup":
            return `${base}/Microsoft.Network/firewallPolicies/${String(inputs.firewallPolicyName)}/ruleCollectionGroups/${name}`;
        case "VirtualNetworkPeering":
            return `${base}/Microsoft.Network/virtualNetworks/${String(inputs.virtualNetworkName)}/virtualNetworkPeerings/${name}`;
        default:
            return `${base}/Microsoft.${module[0].toUpperCase()}${module.slice(1)}/${kind[0].toLowerCase()}${kind.slice(1)}s/${name}`;
    }
}

// The Azure name a resource gets: its explicit name input when it has one, else the Pulumi name.
const NAME_INPUTS = ["vmName", "routeName", "securityRuleName", "vmExtensionName", "runCommandName", "subnetName", "ruleCollectionGroupName", "vmssExtensionName", "vmScaleSetName"];

// Azure gives a firewall the first address it does not reserve in its subnet (the fifth: .0 to .3 are Azure's). The
// subnet is one the program declared; its prefix is read from that registration.
function firewallPrivateIp(harness: Harness, subnetId: unknown): string | undefined {
    const subnet = harness
        .ofType("azure-native:network:Subnet")
        .find((s) => typeof subnetId === "string" && subnetId.endsWith(`/virtualNetworks/${String(s.inputs.virtualNetworkName)}/subnets/${String(s.inputs.subnetName ?? s.name)}`));
    const prefix = typeof subnet?.inputs.addressPrefix === "string" ? subnet.inputs.addressPrefix.split("/")[0] : undefined;
    if (!prefix) {
        return undefined;
    }
    const octets = prefix.split(".").map(Number);
    return [...octets.slice(0, 3), octets[3] + 4].join(".");
}


const same = (a: unknown, b: unknown) => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();

/**
 * Reads of network objects the program itself declared, answered as Azure would once they exist: the object's
 * inputs plus the standalone routes or rules registered for it so far (Azure has created those too by then).
 * Objects the program did not declare are left to the test's invoke mock.
 */
export function programAnswer(harness: Harness, token: string, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
    const rg = inputs.resourceGroupName;
    switch (token) {
        case "azure-native:network:getSubnet": {
            const subnet = harness
                .ofType("azure-native:network:Subnet")
                .find((s) => same(s.inputs.resourceGroupName, rg) && same(s.inputs.virtualNetworkName, inputs.virtualNetworkName) && same(s.inputs.subnetName ?? s.name, inputs.subnetName));
            return subnet && { ...subnet.inputs, name: subnet.inputs.subnetName ?? subnet.name };
        }
        case "azure-native:network:getRouteTable": {
            const table = harness.ofType("azure-native:network:RouteTable").find((t) => same(t.inputs.resourceGroupName, rg) && same(t.name, inputs.routeTableName));
            if (!table) return undefined;
            const standalone = harness
                .ofType("azure-native:network:Route")
                .filter((r) => same(r.inputs.resourceGroupName, rg) && same(r.inputs.routeTableName, inputs.routeTableName))
                .map((r) => ({ ...r.inputs, name: r.inputs.routeName ?? r.name }));
            return { ...table.inputs, name: table.name, routes: [...((table.inputs.routes as object[] | undefined) ?? []), ...standalone] };
        }
        case "azure-native:network:getNetworkSecurityGroup": {
            const nsg = harness.ofType("azure-native:network:NetworkSecurityGroup").find((n) => same(n.inputs.resourceGroupName, rg) && same(n.name, inputs.networkSecurityGroupName));
            if (!nsg) return undefined;
            const standalone = harness
                .ofType("azure-native:network:SecurityRule")
                .filter((r) => same(r.inputs.resourceGroupName, rg) && same(r.inputs.networkSecurityGroupName, inputs.networkSecurityGroupName))
                .map((r) => ({ ...r.inputs, name: r.inputs.securityRuleName ?? r.name }));
            return { ...nsg.inputs, name: nsg.name, securityRules: [...((nsg.inputs.securityRules as object[] | undefined) ?? []), ...standalone] };
        }
        default:
            return undefined;
    }
}

/** `preview`: run as `pulumi preview` does (`pulumi.runtime.isDryRun()` is true; nothing that needs a deployed resource is read). */
export async function mockPulumi(project = "project", stack = "stack", preview = false): Promise<Harness> {
    const harness = new Harness();
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                const inputs = args.inputs as Record<string, unknown>;
                const explicit = NAME_INPUTS.map((k) => inputs[k]).find((v) => typeof v === "string") as string | undefined;
                const azureName = explicit ?? args.name;
                const state: Record<string, unknown> = { ...inputs, name: azureName };
                if (args.type === "azure-native:network:NetworkInterface") {
                    state.ipConfigurations = [{ ...(inputs.ipConfigurations as object[])[0], privateIPAddress: "10.0.0.4" }];
                }
                if (args.type === "azure-native:network:AzureFirewall") {
                    const [first, ...rest] = (inputs.ipConfigurations as { subnet?: { id?: string } }[] | undefined) ?? [];
                    if (first) {
                        state.ipConfigurations = [{ ...first, privateIPAddress: firewallPrivateIp(harness, first.subnet?.id) }, ...rest];
                    }
                }
                if (args.type === "azure-native:compute:VirtualMachine" && inputs.location === undefined) {
                    state.location = "westeurope";
                }
                return { id: providerPath(args.type, azureName, inputs), state };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                harness.invokes.push({ token: args.token, inputs: args.inputs });
                const result = programAnswer(harness, args.token, args.inputs) ?? harness.invokeMock(args.token, args.inputs);
                if (result === undefined) {
                    throw new Error(`unmocked invoke ${args.token}`);
                }
                return result;
            },
        },
        project,
        stack,
        preview,
    );
    const settings = require("@pulumi/pulumi/runtime/settings");
    const monitor = settings.getMonitor();
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        registerResource(req, (err: unknown, response: any) => {
            if (!err) {
                harness.registrations.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: response.getUrn(),
                    parentUrn: req.getParent(),
                    custom: req.getCustom(),
                    inputs: req.getObject()?.toJavaScript() ?? {},
                    dependencies: req.getDependenciesList(),
                    aliases: req.getAliasesList().length,
                    options: {
                        deleteBeforeReplace: req.getDeletebeforereplace(),
                        retainOnDelete: req.getRetainondelete(),
                        protect: req.getProtect(),
                        replaceOnChanges: req.getReplaceonchangesList(),
                        ignoreChanges: req.getIgnorechangesList(),
                    },
                    id: response.getId() ?? "",
                    outputs: response.getObject()?.toJavaScript() ?? {},
                });
            }
            callback(err, response);
        });
    };
    const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: any) => {
        harness.componentOutputs.set(req.getUrn(), req.getOutputs()?.toJavaScript());
        registerResourceOutputs(req, callback);
    };
    return harness;
}

/** Every string in a value that is not inside a Pulumi secret. */
export function plainStrings(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    if (Array.isArray(value)) {
        return value.flatMap(plainStrings);
    }
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
            return [];
        }
        return Object.values(record).flatMap(plainStrings);
    }
    return [];
}

/** Whether a serialized value is a Pulumi secret. */
export function isSecretValue(value: unknown): boolean {
    return !!value && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";
}

/** The value inside a serialized secret; throws when the value is not a secret. */
export function secretValue(value: unknown): any {
    if (!isSecretValue(value)) {
        throw new Error(`expected a secret, got ${JSON.stringify(value)?.slice(0, 80)}`);
    }
    return (value as { value: unknown }).value;
}

/** Resolves an Output (under mocks everything resolves). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

