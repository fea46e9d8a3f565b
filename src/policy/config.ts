import { EnforcementLevel, PolicyConfigSchema } from "@pulumi/policy/policy";
import { KMS_PORT, kmsEndpoint } from "../kms/endpoints";
import { AzureCloud, CustomKmsServer } from "../types";
import * as validate from "../validate";
import { Ipv4Prefix, parseIpv4Prefix } from "./cidr";

/** The policies of the pack, by name. */
export const KmsPolicyNames = {
    /** Every Windows VM reaches every KMS address (routes, NSGs, egress, hub firewall judged together by the engine). */
    Reachability: "kms-reachability",
    /** A Windows VM whose KMS traffic the stack's routes send to an appliance or firewall the stack does not define. */
    ReachabilityUnverified: "kms-reachability-unverified",
    /** Each subnet of the stack with no Windows VM of the stack, judged as a Windows VM placed in it. */
    SubnetReachability: "kms-subnet-reachability",
    /** Every Windows VM has a KMS activation in the stack. */
    WindowsVmActivation: "kms-windows-vm-activation",
    /** Opt-in hygiene (`hygiene: true`): an outbound allow for port 1688 goes to the KMS addresses only. */
    NsgAllowLeastPrivilege: "kms-nsg-allow-least-privilege",
} as const;

/** Name of one policy of the pack. */
export type KmsPolicyName = (typeof KmsPolicyNames)[keyof typeof KmsPolicyNames];

/** Options of `createKmsActivationPolicies`; the pack's policy config, when it names the KMS, takes precedence. */
export interface KmsActivationPolicyOptions {
    /** Cloud whose KMS the checked resources must reach. Default `AzurePublic`. */
    cloud?: AzureCloud;
    /** An on-premises KMS reached over VPN or ExpressRoute: no Internet routes or public outbound are expected then. */
    customKmsServer?: CustomKmsServer;
    /** Override the cloud's KMS IP addresses (they moved once, in 2023). */
    kmsIpAddresses?: string[];
    /**
     * Add the hygiene policy `kms-nsg-allow-least-privilege`, which flags an outbound allow on port 1688 wider than the
     * KMS addresses. It speaks about least privilege, not reachability: it may flag a design that activates fine.
     * Default `false`.
     */
    hygiene?: boolean;
    /** Enforcement level per policy. Default `advisory` for every policy. */
    enforcementLevels?: Partial<Record<KmsPolicyName, EnforcementLevel>>;
    /**
     * Subnets (by name) that `kms-subnet-reachability` leaves alone: subnets where no Windows VM will ever go. The
     * policy config's `subnetsWithoutWindows`, when given, replaces this list.
     */
    subnetsWithoutWindows?: string[];
}

/** What a policy reads from its config (`pulumi preview --policy-pack-config`). */
export interface KmsPolicyConfig {
    cloud?: AzureCloud;
    customKmsServer?: CustomKmsServer;
    kmsIpAddresses?: string[];
    /** kms-subnet-reachability: subnet names to skip. */
    subnetsWithoutWindows?: string[];
}

/** The KMS a policy checks against, resolved from options and config. */
export interface KmsTarget {
    /** Where the addresses come from, for messages: a cloud name, `kmsIpAddresses` or `customKmsServer`. */
    readonly source: string;
    /** The addresses as the user knows them (IPs for Azure KMS, prefixes for a custom server). */
    readonly addresses: readonly string[];
    /** The same, parsed, in the same order. */
    readonly prefixes: readonly Ipv4Prefix[];
    /** TCP port of the KMS. */
    readonly port: number;
    /** `host:port` the guest should be pointed at. */
    readonly endpoint: string;
    /** True for an on-premises KMS: no Internet routes, no public outbound needed. */
    readonly custom: boolean;
}

/** Every policy reads the same keys: Pulumi's policy config is per policy, not per pack. */
export const kmsPolicyConfigSchema: PolicyConfigSchema = {
    properties: {
        cloud: {
            type: "string",
            enum: Object.values(AzureCloud),
            description: "Azure cloud whose KMS the VMs activate against (default AzurePublic).",
        },
        kmsIpAddresses: {
            type: "array",
            items: { type: "string" },
            minItems: 1,
            description: "Override the cloud's KMS IP addresses.",
        },
        customKmsServer: {
            type: "object",
            description: "An on-premises KMS reached over VPN or ExpressRoute; replaces the cloud's KMS.",
            properties: {
                host: { type: "string", description: "Host name or IPv4 address of the KMS." },
                port: { type: "integer", minimum: 1, maximum: 65535, description: "TCP port of the KMS (default 1688)." },
                addressPrefixes: {
                    type: "array",
                    items: { type: "string" },
                    minItems: 1,
                    description: "CIDR prefixes of the KMS host(s).",
                },
            },
            required: ["host", "addressPrefixes"],
        },
        subnetsWithoutWindows: {
            type: "array",
            items: { type: "string" },
            description: "kms-subnet-reachability: names of subnets no Windows VM will use (they are not judged).",
        },
    },
};

// Prefixes a refusal with where the bad value came from, so the user can find it.
function checked<T>(where: string, checks: () => T): T {
    try {
        return checks();
    } catch (err) {
        if (err instanceof validate.KmsInputError) {
            throw new validate.KmsInputError(`${where}: ${err.message}`);
        }
        throw err;
    }
}

function resolve(settings: KmsPolicyConfig): KmsTarget {
    validate.enumValue("cloud", settings.cloud, AzureCloud);
    validate.kmsIpAddresses("kmsIpAddresses", settings.kmsIpAddresses);
    validate.customKmsServer("customKmsServer", settings.customKmsServer);
    const custom = settings.customKmsServer;
    if (custom) {
        const port = custom.port ?? KMS_PORT;
        return target("customKmsServer", custom.addressPrefixes, port, `${custom.host}:${port}`, true);
    }
    const endpoint = kmsEndpoint(settings.cloud);
    const addresses = settings.kmsIpAddresses ?? endpoint.ipAddresses;
    const source = settings.kmsIpAddresses ? "kmsIpAddresses" : endpoint.cloud;
    return target(source, addresses, endpoint.port, `${endpoint.host}:${endpoint.port}`, false);
}

function target(source: string, addresses: readonly string[], port: number, endpoint: string, custom: boolean): KmsTarget {
    // The validators above accepted only IPv4 addresses and prefixes, so every entry parses.
    const prefixes = addresses.map((a) => parseIpv4Prefix(a) as Ipv4Prefix);
    return { source, addresses: [...addresses], prefixes, port, endpoint, custom };
}

/** Checks the code options now, so a bad pack fails when it loads, naming the field. */
export function checkOptions(options: KmsActivationPolicyOptions): void {
    checked("createKmsActivationPolicies", () => {
        resolve(options);
        subnetNames("subnetsWithoutWindows", options.subnetsWithoutWindows);
        const levels: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
        const names: string[] = Object.values(KmsPolicyNames);
        for (const [name, level] of Object.entries(options.enforcementLevels ?? {})) {
            validate.enumValue("enforcementLevels", name, Object.fromEntries(names.map((n) => [n, n])));
            validate.enumValue(`enforcementLevels.${name}`, level, Object.fromEntries(levels.map((l) => [l, l])));
        }
    });
}

/**
 * The KMS for one policy run. The policy config replaces the code options as a whole when it names
 * the KMS at all: mixing a cloud from one with an address override from the other would check
 * against addresses nobody chose.
 */
export function resolveTarget(policyName: string, options: KmsActivationPolicyOptions, config: KmsPolicyConfig | undefined): KmsTarget {
    const fromConfig =
        config !== undefined && (config.cloud !== undefined || config.kmsIpAddresses !== undefined || config.customKmsServer !== undefined);
    if (fromConfig) {
        return checked(`policy config of ${policyName}`, () => resolve(config));
    }
    return checked("createKmsActivationPolicies", () => resolve(options));
}

function subnetNames(field: string, value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
        throw new validate.KmsInputError(`${field}: must be a list of subnet names, such as ["snet-linux"]`);
    }
    return value as string[];
}

/** The subnet names kms-subnet-reachability skips: the policy config's list when given, else the option's; lower case. */
export function subnetsWithoutWindowsOf(policyName: string, options: KmsActivationPolicyOptions, config: KmsPolicyConfig | undefined): Set<string> {
    const names =
        config?.subnetsWithoutWindows !== undefined
            ? checked(`policy config of ${policyName}`, () => subnetNames("subnetsWithoutWindows", config.subnetsWithoutWindows))
            : subnetNames("subnetsWithoutWindows", options.subnetsWithoutWindows);
    return new Set(names.map((n) => n.trim().toLowerCase()));
}

/** The enforcement level of a policy: the option, else advisory. Pulumi's policy config overrides it at run time. */
export function enforcementLevelOf(name: KmsPolicyName, options: KmsActivationPolicyOptions): EnforcementLevel {
    return options.enforcementLevels?.[name] ?? "advisory";
}

/** The config of a policy run, tolerant of hand-built arguments without `getConfig`. */
export function configOf(args: { getConfig?: <T extends object>() => T }): KmsPolicyConfig | undefined {
    return typeof args.getConfig === "function" ? args.getConfig<KmsPolicyConfig>() : undefined;
}
