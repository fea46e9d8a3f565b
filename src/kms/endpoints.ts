import { AzureCloud } from "../types";

/** Where a cloud's KMS lives: the names the guest can use and the addresses the network must let through. */
export interface KmsEndpointInfo {
    /** The cloud this endpoint belongs to. */
    readonly cloud: AzureCloud;
    /** Current KMS DNS name (a Traffic Manager name since 2022). */
    readonly host: string;
    /** The pre-2022 name, still answered; shown for diagnosis only. */
    readonly legacyHost: string;
    /** KMS TCP port. */
    readonly port: number;
    /**
     * Every KMS IP of the cloud: each gets a /32 route and is a destination of the NSG rule. Ordered alike in every
     * cloud: the addresses of the current (azkms) name first, the legacy name's address last, so the `IpAddress`
     * host form tries the current KMS first.
     */
    readonly ipAddresses: readonly string[];
}

/** The standard KMS port (TCP). */
export const KMS_PORT = 1688;

// Microsoft's "custom routes to enable KMS activation" article lists these; all VMs moved to them in March 2023.
// The legacy names (kms.core.*) answer at 23.102.135.246, 23.97.0.13 and 42.159.7.249: those go last.
const ENDPOINTS: Readonly<Record<AzureCloud, KmsEndpointInfo>> = {
    [AzureCloud.AzurePublic]: {
        cloud: AzureCloud.AzurePublic,
        host: "azkms.core.windows.net",
        legacyHost: "kms.core.windows.net",
        port: KMS_PORT,
        ipAddresses: ["20.118.99.224", "40.83.235.53", "23.102.135.246"],
    },
    [AzureCloud.AzureUSGovernment]: {
        cloud: AzureCloud.AzureUSGovernment,
        host: "azkms.core.usgovcloudapi.net",
        legacyHost: "kms.core.usgovcloudapi.net",
        port: KMS_PORT,
        ipAddresses: ["52.126.105.2", "23.97.0.13"],
    },
    [AzureCloud.AzureChina]: {
        cloud: AzureCloud.AzureChina,
        host: "azkms.core.chinacloudapi.cn",
        legacyHost: "kms.core.chinacloudapi.cn",
        port: KMS_PORT,
        ipAddresses: ["159.27.28.100", "163.228.64.161", "42.159.7.249"],
    },
};

/** The KMS endpoint of an Azure cloud (default `AzurePublic`). Throws on a cloud that is not one of `AzureCloud`. */
export function kmsEndpoint(cloud: AzureCloud = AzureCloud.AzurePublic): KmsEndpointInfo {
    const endpoint = (ENDPOINTS as Record<string, KmsEndpointInfo | undefined>)[cloud];
    if (!endpoint) {
        throw new Error(
            `cloud: "${String(cloud)}" is not a supported Azure cloud; use one of ${Object.values(AzureCloud).join(", ")}`,
        );
    }
    return endpoint;
}
