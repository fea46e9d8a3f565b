/**
 * What the Azure CLI and REST API return for a NIC, turned into engine input:
 * `az network nic show-effective-route-table`, `az network nic list-effective-nsg` (the REST body
 * `{ "value": [...] }`, the bare array, or an azure-rest-api-specs example file holding it), and optionally
 * `az network vnet subnet show` and `az network nic show`. Any other shape is refused with an `AzureJsonError`
 * naming the file and what was expected.
 */
import { flatten, nicFromArm, nsgFromArm, nameFromId, subnetFromArm } from "./arm";
import { NsgFacts, PathFacts, RouteFact } from "./types";

/** A file that is not what its option expects. */
export class AzureJsonError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "AzureJsonError";
    }
}

type Json = { [key: string]: unknown };

function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The list inside `{ value: [...] }`, a bare list, or a spec example's `responses["200"].body.value`. */
function valueList(json: unknown, file: string, expected: string): unknown[] {
    if (Array.isArray(json)) return json;
    if (isObject(json)) {
        if (Array.isArray(json.value)) return json.value;
        const body = isObject(json.responses) && isObject(json.responses["200"]) ? json.responses["200"].body : undefined;
        if (isObject(body) && Array.isArray(body.value)) return body.value;
    }
    throw new AzureJsonError(`${file}: not the output of ${expected} (expected {"value": [...]} or the array the CLI prints)`);
}

function strings(value: unknown): string[] {
    if (typeof value === "string") return [value];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** `az network nic show-effective-route-table` → effective routes (source, state, prefixes, next hop). */
export function effectiveRoutesFromJson(json: unknown, file: string): RouteFact[] {
    const expected = "az network nic show-effective-route-table";
    const entries = valueList(json, file, expected);
    // R2: Azure gives every subnet system routes (the VNet space, 0.0.0.0/0, the private ranges), so a NIC's effective
    // route table is never empty; an empty list is some other output, and judging it would say "blocked" for nothing.
    if (entries.length === 0) {
        throw new AzureJsonError(`${file}: no routes listed; every NIC has system routes: this is not a NIC's effective route table (${expected})`);
    }
    return entries.map((entry, i) => {
        const e = isObject(entry) ? flatten(entry) : undefined;
        const prefixes = strings(e?.addressPrefix);
        if (!e || prefixes.length === 0 || typeof e.nextHopType !== "string") {
            throw new AzureJsonError(`${file}: route ${i + 1} has no addressPrefix or nextHopType; expected the output of ${expected}`);
        }
        const hopIp = strings(e.nextHopIpAddress)[0];
        return {
            ...(typeof e.name === "string" ? { name: e.name } : {}),
            source: typeof e.source === "string" ? e.source : "Unknown",
            ...(typeof e.state === "string" ? { state: e.state } : {}),
            addressPrefixes: prefixes,
            nextHopType: e.nextHopType,
            ...(hopIp ? { nextHopIpAddress: hopIp } : {}),
        };
    });
}

/** The NIC's and the subnet's NSGs from `az network nic list-effective-nsg` (`null`: no NSG on that layer). */
export function effectiveNsgsFromJson(json: unknown, file: string): { nicNsg: NsgFacts | null; subnetNsg: NsgFacts | null } {
    const expected = "az network nic list-effective-nsg";
    const entries = valueList(json, file, expected);
    if (entries.length > 2) {
        throw new AzureJsonError(`${file}: ${entries.length} NSGs listed; a NIC has at most two (its own and its subnet's)`);
    }
    const layers: { nic: NsgFacts | null; subnet: NsgFacts | null } = { nic: null, subnet: null };
    const ambiguous: NsgFacts[] = [];
    entries.forEach((entry, i) => {
        if (!isObject(entry) || !Array.isArray(entry.effectiveSecurityRules)) {
            throw new AzureJsonError(`${file}: NSG ${i + 1} has no effectiveSecurityRules; expected the output of ${expected}`);
        }
        const association = isObject(entry.association) ? entry.association : {};
        const name = nameFromId(isObject(entry.networkSecurityGroup) ? entry.networkSecurityGroup.id : undefined, "networkSecurityGroups") ?? `NSG ${i + 1}`;
        const nsg = nsgFromArm({ name, securityRules: entry.effectiveSecurityRules });
        const onNic = isObject(association.networkInterface);
        const onSubnet = isObject(association.subnet);
        if (onNic && !onSubnet && !layers.nic) layers.nic = nsg;
        else if (onSubnet && !onNic && !layers.subnet) layers.subnet = nsg;
        else ambiguous.push(nsg);
    });
    // An entry associated with both (as in Azure's example) fills the free layer: the verdict does not depend on which.
    for (const nsg of ambiguous) {
        if (!layers.nic) layers.nic = nsg;
        else layers.subnet = nsg;
    }
    return { nicNsg: layers.nic, subnetNsg: layers.subnet };
}

/** `az network vnet subnet show` → the subnet's egress facts. */
export function subnetFromJson(json: unknown, file: string): Pick<PathFacts, "subnetName" | "natGateway" | "defaultOutboundAccess"> & { nsgName?: string; routeTableName?: string } {
    const s = isObject(json) ? flatten(json) : undefined;
    const looksLikeSubnet = s && (typeof s.addressPrefix === "string" || Array.isArray(s.addressPrefixes) || /\/subnets\//i.test(String(s.id ?? "")));
    if (!s || !looksLikeSubnet) {
        throw new AzureJsonError(`${file}: not the output of az network vnet subnet show (expected an object with addressPrefix and a subnet id)`);
    }
    const subnet = subnetFromArm(s);
    const nsgName = nameFromId(subnet.networkSecurityGroupId, "networkSecurityGroups");
    return {
        ...(subnet.subnetName ? { subnetName: subnet.subnetName } : {}),
        natGateway: subnet.natGateway,
        defaultOutboundAccess: subnet.defaultOutboundAccess,
        ...(nsgName ? { nsgName } : {}),
        ...(subnet.routeTableId ? { routeTableName: nameFromId(subnet.routeTableId, "routeTables") } : {}),
    };
}

/** `az network nic show` → private IP, public IP and load-balancer membership. */
export function nicFromJson(json: unknown, file: string): Pick<PathFacts, "privateIpAddress" | "nicPublicIp" | "loadBalancerOutbound" | "applicationSecurityGroups"> & { nicName?: string } {
    const n = isObject(json) ? flatten(json) : undefined;
    if (!n || !Array.isArray(n.ipConfigurations) || n.ipConfigurations.length === 0) {
        throw new AzureJsonError(`${file}: not the output of az network nic show (expected an object with ipConfigurations)`);
    }
    const nic = nicFromArm(n);
    return {
        ...(typeof n.name === "string" ? { nicName: n.name } : {}),
        ...(nic.privateIpAddress ? { privateIpAddress: nic.privateIpAddress } : {}),
        nicPublicIp: nic.publicIp,
        // In a backend pool, outbound depends on the balancer's outbound rules, which the NIC does not show.
        ...(nic.loadBalancerBackendPools.length === 0 ? { loadBalancerOutbound: null } : {}),
        // N4: an NSG rule from an ASG applies only to member NICs; `az network nic show` lists the memberships.
        ...(nic.applicationSecurityGroups.length > 0 ? { applicationSecurityGroups: nic.applicationSecurityGroups } : {}),
    };
}

/** The outputs of the four commands (parsed JSON), two of them optional. */
export interface AzureCliOutputs {
    routes: { json: unknown; file: string };
    nsgs: { json: unknown; file: string };
    subnet?: { json: unknown; file: string };
    nic?: { json: unknown; file: string };
}

/** Engine input from the CLI's outputs. What a missing file would tell stays unknown. */
export function pathFactsFromAzureCli(outputs: AzureCliOutputs): PathFacts {
    const facts: PathFacts = {
        effectiveRoutes: effectiveRoutesFromJson(outputs.routes.json, outputs.routes.file),
        ...effectiveNsgsFromJson(outputs.nsgs.json, outputs.nsgs.file),
    };
    if (outputs.subnet) {
        const { nsgName, routeTableName, ...subnet } = subnetFromJson(outputs.subnet.json, outputs.subnet.file);
        Object.assign(facts, subnet);
        if (routeTableName) {
            // The effective routes do not say which table a user route is in; the subnet does (for messages and fixes).
            facts.routeTable = { name: routeTableName, routes: [] };
            facts.effectiveRoutes = facts.effectiveRoutes?.map((r) => (r.source.toLowerCase() === "user" ? { ...r, routeTable: routeTableName } : r));
        }
        // The subnet names its NSG: an entry listed with both associations belongs to the subnet then.
        if (nsgName && facts.nicNsg?.name.toLowerCase() === nsgName.toLowerCase() && facts.subnetNsg === null) {
            facts.subnetNsg = facts.nicNsg;
            facts.nicNsg = null;
        }
    }
    if (outputs.nic) {
        const { nicName, ...nic } = nicFromJson(outputs.nic.json, outputs.nic.file);
        Object.assign(facts, nic, nicName ? { vmName: `NIC ${nicName}` } : {});
    }
    return facts;
}
