import * as pulumi from "@pulumi/pulumi";
import { kmsEndpoint } from "../kms";
import {
    AddressReachability,
    KmsDestination,
    NsgFacts,
    PathFacts,
    Reachability,
    RouteTableFacts,
    customKmsDestination,
    decideReachability,
    nsgFromArm,
    pathFactsFromArm,
    routeTableFromArm,
    subnetFromArm,
} from "../reachability";
import { AzureCloud, CustomKmsServer, PrivateSubnetCheck } from "../types";
import { SubnetAddress, parseChildId, parseSubnetId, readNetworkSecurityGroup, readRouteTable, readSubnet } from "./azureReads";
import { plannedNextHops, plannedRoutes, plannedSecurityRules } from "./programEgress";

/** Why a private subnet without explicit outbound breaks activation, and every way out. */
export function privateSubnetMessage(subnet: SubnetAddress): string {
    return (
        `${subnetText(subnet)} ` +
        "is private (defaultOutboundAccess: false) and has no NAT gateway: Windows VMs in it cannot activate, because Azure KMS " +
        "accepts requests only from an Azure public IP and the /32 Internet routes do not help without one. " +
        "Fix one of: attach a NAT gateway to the subnet (Microsoft's recommendation; KmsNetwork does it by default), " +
        "give the VM's NIC a public IP, add load-balancer outbound rules, or send 0.0.0.0/0 to a hub firewall or NVA that SNATs " +
        "to a public IP and allows TCP 1688 with a network rule (then leave routeTableName out of KmsEgressRules)."
    );
}

function subnetText(subnet: SubnetAddress): string {
    return `subnet "${subnet.subnetName}" (virtual network "${subnet.virtualNetworkName}", resource group "${subnet.resourceGroupName}")`;
}

/** The check a component runs: none for an on-premises KMS, which is reached privately and needs no public IP. */
export function privateSubnetCheckMode(args: { customKmsServer?: CustomKmsServer; privateSubnetCheck?: PrivateSubnetCheck }): PrivateSubnetCheck {
    return args.customKmsServer ? PrivateSubnetCheck.Off : (args.privateSubnetCheck ?? PrivateSubnetCheck.Warn);
}

/** The KMS a component's VMs activate against, as the engine's destination. */
export function checkDestination(args: { cloud?: AzureCloud; kmsIpAddresses?: string[]; customKmsServer?: CustomKmsServer }): KmsDestination {
    if (args.customKmsServer) {
        return customKmsDestination(args.customKmsServer);
    }
    const endpoint = kmsEndpoint(args.cloud);
    return {
        host: endpoint.host,
        port: endpoint.port,
        addressPrefixes: [...(args.kmsIpAddresses ?? endpoint.ipAddresses)],
        custom: false,
        source: args.kmsIpAddresses ? "kmsIpAddresses" : endpoint.cloud,
    };
}

// Our own routes and rule belong in the picture even when the read came before they were created.
function withPlannedRoutes(table: RouteTableFacts, planned: RouteTableFacts["routes"]): RouteTableFacts {
    const names = new Set(table.routes.map((r) => r.name.toLowerCase()));
    return { ...table, routes: [...table.routes, ...planned.filter((r) => !names.has(r.name.toLowerCase()))] };
}

function withPlannedRules(nsg: NsgFacts, planned: NsgFacts["rules"]): NsgFacts {
    const names = new Set(nsg.rules.map((r) => r.name.toLowerCase()));
    return { ...nsg, rules: [...nsg.rules, ...planned.filter((r) => !names.has(r.name.toLowerCase()))] };
}

/**
 * The engine's facts for a subnet, from one read of the subnet, its route table and its NSG (each once per program),
 * plus what this program adds to them (KMS routes, the NSG rule, firewall rules at a known private IP). The VM's NIC
 * is the package's own (no NSG, no public IP, no load balancer); the source is the subnet's prefix, which every
 * NIC in it is inside.
 */
export async function subnetPathFacts(address: SubnetAddress, owner: pulumi.Resource): Promise<PathFacts> {
    const subnet = await readSubnet(address, owner);
    const egress = subnetFromArm(subnet);
    const tableId = parseChildId(egress.routeTableId, "routeTables");
    const nsgId = parseChildId(egress.networkSecurityGroupId, "networkSecurityGroups");
    const [table, nsg] = await Promise.all([
        tableId ? readRouteTable(tableId.resourceGroupName, tableId.name, owner) : Promise.resolve(null),
        nsgId ? readNetworkSecurityGroup(nsgId.resourceGroupName, nsgId.name, owner) : Promise.resolve(null),
    ]);
    const facts = pathFactsFromArm({ subnet });
    return {
        ...facts,
        subnetName: address.subnetName,
        ...(egress.addressPrefixes.length === 1 ? { privateIpAddress: egress.addressPrefixes[0] } : {}),
        routeTable: tableId && table ? withPlannedRoutes(routeTableFromArm(table, tableId.name), plannedRoutes(tableId.resourceGroupName, tableId.name)) : null,
        subnetNsg: nsgId && nsg ? withPlannedRules(nsgFromArm(nsg, nsgId.name), plannedSecurityRules(nsgId.resourceGroupName, nsgId.name)) : null,
        nicNsg: null,
        nicPublicIp: null,
        loadBalancerOutbound: null,
        nextHops: plannedNextHops(),
    };
}

/** One finding of a subnet check: what to log, at which level. */
export interface SubnetFinding {
    level: "warn" | "info";
    message: string;
}

/** Turns the engine's verdict into what the component says: blocked warns (E2 keeps the private-subnet message), unknown informs. */
export function subnetFindings(address: SubnetAddress, destination: KmsDestination, decision: Reachability): SubnetFinding[] {
    const byBlame = new Map<string, AddressReachability[]>();
    for (const a of decision.addresses) {
        if (a.verdict === "reachable" || !a.blame) continue;
        const k = `${a.verdict}|${a.blame.element}|${a.blame.rule}`;
        byBlame.set(k, [...(byBlame.get(k) ?? []), a]);
    }
    const findings: SubnetFinding[] = [];
    const privateSubnet = (a: AddressReachability) => a.verdict === "blocked" && (a.blame!.rule === "E2" || a.blame!.rule === "R4");
    if ([...byBlame.values()].some((list) => privateSubnet(list[0]))) {
        findings.push({ level: "warn", message: privateSubnetMessage(address) });
    }
    for (const list of byBlame.values()) {
        const first = list[0];
        if (privateSubnet(first)) continue;
        const blame = first.blame!;
        const addresses = list.map((a) => a.address).join(", ");
        if (first.verdict === "blocked") {
            findings.push({
                level: "warn",
                message:
                    `${subnetText(address)}: Windows VMs in it cannot activate: TCP ${destination.port} to ${addresses} (${destination.host}) is blocked ` +
                    `(rule ${blame.rule}): ${blame.reason} Fix: ${blame.fix}`,
            });
        } else {
            findings.push({
                level: "info",
                message:
                    `${subnetText(address)}: whether TCP ${destination.port} to ${addresses} (${destination.host}) gets out is decided by ${blame.element}, ` +
                    `which this program cannot see: ${blame.reason} To activate, ${blame.fix.replace(/\.$/, "")}.`,
            });
        }
    }
    return findings;
}

// One judgement per subnet and KMS, and one report per check mode, however many VMs or rule sets point at it.
const judged = new Map<string, Promise<{ address: SubnetAddress; destination: KmsDestination; decision: Reachability } | undefined>>();
const reported = new Map<string, Promise<void>>();

function destinationKey(d: KmsDestination): string {
    return `${d.port}:${d.addressPrefixes.join(",")}`;
}

function judge(id: string, destination: KmsDestination, owner: pulumi.Resource) {
    const k = `${id.toLowerCase()}|${destinationKey(destination)}`;
    let found = judged.get(k);
    if (!found) {
        found = (async () => {
            const address = parseSubnetId(id);
            if (!address) return undefined;
            const facts = await subnetPathFacts(address, owner);
            return { address, destination, decision: decideReachability(facts, destination) };
        })();
        judged.set(k, found);
    }
    return found;
}

async function report(id: string, mode: PrivateSubnetCheck, destination: KmsDestination, owner: pulumi.Resource): Promise<void> {
    const result = await judge(id, destination, owner);
    if (!result) return;
    const findings = subnetFindings(result.address, result.destination, result.decision);
    const warnings = findings.filter((f) => f.level === "warn");
    if (mode === PrivateSubnetCheck.Error && warnings.length > 0) {
        throw new Error(`${warnings.map((w) => w.message).join(" ")} (privateSubnetCheck: Error)`);
    }
    for (const f of findings) {
        if (f.level === "warn") {
            await pulumi.log.warn(`${f.message} Set privateSubnetCheck: Off to silence this.`, owner);
        } else {
            await pulumi.log.info(f.message, owner);
        }
    }
}

/**
 * The brownfield subnet check: reads the subnet (`network.getSubnet`), its route table and its NSG by the IDs the
 * subnet names (each once per program), adds what this program adds to them, and asks the reachability engine
 * whether TCP to every KMS address leaves from an Azure public IP. `blocked` warns (or fails with
 * `PrivateSubnetCheck.Error`) naming the element and its fix; `unknown` (an appliance the program cannot see) logs
 * what it must do; `reachable` is quiet. `after`: IDs of the path the program builds (the activation's
 * `activationWaitsFor`): the reads wait for them, so they see the path as the activation will meet it. A subnet ID
 * not known yet (preview of a new subnet) is checked on update. Returns an empty resource list for `dependsOn`.
 */
export function checkSubnetOutbound(
    subnetId: pulumi.Input<string>,
    mode: PrivateSubnetCheck,
    owner: pulumi.Resource,
    destination: KmsDestination,
    after?: pulumi.Input<string[]>,
): pulumi.Output<pulumi.Resource[]> {
    if (mode === PrivateSubnetCheck.Off) {
        return pulumi.output([]);
    }
    return pulumi.all([subnetId, after ?? []]).apply(async ([id]) => {
        const k = `${mode}|${id.toLowerCase()}|${destinationKey(destination)}`;
        let done = reported.get(k);
        if (!done) {
            done = report(id, mode, destination, owner);
            reported.set(k, done);
        }
        await done;
        return [] as pulumi.Resource[];
    });
}

/**
 * `activationWaitsFor` with the subnet check in it: the activation (not the VM) waits for the check, so a warning
 * never holds the VM back; the IDs and their resources are passed on unchanged.
 */
export function afterSubnetCheck(activationWaitsFor: pulumi.Input<string[]> | undefined, check: pulumi.Output<pulumi.Resource[]>, mode: PrivateSubnetCheck): pulumi.Input<string[]> | undefined {
    if (mode === PrivateSubnetCheck.Off) {
        return activationWaitsFor;
    }
    return pulumi.all([activationWaitsFor ?? [], check]).apply(([ids]) => ids);
}

/** Forgets every judgement and report: for tests that run many programs in one process. */
export function forgetSubnetChecks(): void {
    judged.clear();
    reported.clear();
}
