/**
 * Azure's own SDK clients, set up for one cloud. The endpoints are each cloud's standard Resource Manager ones
 * (Microsoft Learn, "Azure China 21Vianet / Azure Government developer guide": management.chinacloudapi.cn,
 * management.usgovcloudapi.net); a test points them at a local stand-in and trusts its certificate through the
 * clients' own `tlsOptions`, never by turning TLS checks off.
 */
import type { TokenCredential } from "@azure/identity";
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { NetworkManagementClient } from "@azure/arm-network";
import type { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import { AzureCloud } from "../types";

/** Resource Manager endpoint of each cloud. */
export const ARM_ENDPOINTS: Readonly<Record<AzureCloud, string>> = {
    [AzureCloud.AzurePublic]: "https://management.azure.com",
    [AzureCloud.AzureUSGovernment]: "https://management.usgovcloudapi.net",
    [AzureCloud.AzureChina]: "https://management.chinacloudapi.cn",
};

/** The cloud whose Resource Manager endpoint this is (undefined for any other host, such as a stand-in). */
export function cloudOfArmEndpoint(endpoint: string): AzureCloud | undefined {
    let host: string;
    try {
        host = new URL(endpoint).hostname.toLowerCase();
    } catch {
        return undefined;
    }
    return (Object.entries(ARM_ENDPOINTS) as [AzureCloud, string][]).find(([, url]) => new URL(url).hostname === host)?.[0];
}

/** How to reach Resource Manager. */
export interface ArmConnection {
    /** Who asks: `DefaultAzureCredential` unless a test or caller gives another. */
    credential: TokenCredential;
    /** The cloud: decides the token audience and, unless `endpoint` is given, the endpoint. */
    cloud: AzureCloud;
    /** Another endpoint (a stand-in); the token audience stays the cloud's. */
    endpoint?: string;
    /** PEM certificate(s) to trust besides the system's (a stand-in's self-signed one). */
    ca?: string;
}

/** The clients `fleet` reads through. */
export interface FleetClients {
    subscriptions(): SubscriptionClient;
    compute(subscriptionId: string): ComputeManagementClient;
    network(subscriptionId: string): NetworkManagementClient;
}

/** The default credential: `az login`, managed identity, environment (loaded only when needed). */
export function defaultCredential(): TokenCredential {
    const { DefaultAzureCredential } = require("@azure/identity") as typeof import("@azure/identity");
    return new DefaultAzureCredential();
}

/**
 * Clients for a connection, one per subscription, made on first use. The SDK's own pipeline retries throttled
 * (429, honouring `Retry-After`) and transient (5xx, connection reset) requests; three retries as the SDK defaults.
 */
export function fleetClients(connection: ArmConnection): FleetClients {
    // Loaded here so that importing the package's components never loads the Azure SDK.
    const { ComputeManagementClient: Compute } = require("@azure/arm-compute") as typeof import("@azure/arm-compute");
    const { NetworkManagementClient: Network } = require("@azure/arm-network") as typeof import("@azure/arm-network");
    const { SubscriptionClient: Subscriptions } = require("@azure/arm-resources-subscriptions") as typeof import("@azure/arm-resources-subscriptions");
    const endpoint = connection.endpoint ?? ARM_ENDPOINTS[connection.cloud];
    const scope = `${ARM_ENDPOINTS[connection.cloud]}/.default`;
    const tlsOptions = connection.ca ? { tlsOptions: { ca: connection.ca } } : {};
    const common = { ...tlsOptions, userAgentOptions: { userAgentPrefix: "azure-kms-activation-fleet" } };
    const computes = new Map<string, ComputeManagementClient>();
    const networks = new Map<string, NetworkManagementClient>();
    let subscriptions: SubscriptionClient | undefined;
    return {
        subscriptions: () => (subscriptions ??= new Subscriptions(connection.credential, { ...common, endpoint, $host: endpoint, credentialScopes: [scope] })),
        compute: (id) => {
            let client = computes.get(id);
            if (!client) {
                client = new Compute(connection.credential, id, { ...common, endpoint, credentials: { scopes: [scope] } });
                computes.set(id, client);
            }
            return client;
        },
        network: (id) => {
            let client = networks.get(id);
            if (!client) {
                client = new Network(connection.credential, id, { ...common, endpoint, $host: endpoint, credentialScopes: [scope] });
                networks.set(id, client);
            }
            return client;
        },
    };
}
