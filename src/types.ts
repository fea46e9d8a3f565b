/** The Azure cloud whose KMS the guest activates against. */
export enum AzureCloud {
    /** Azure global (public) cloud. */
    AzurePublic = "AzurePublic",
    /** Azure US Government. */
    AzureUSGovernment = "AzureUSGovernment",
    /** Azure operated by 21Vianet (China). */
    AzureChina = "AzureChina",
}

/** How the guest names the KMS host in `slmgr /skms`. */
export enum KmsHostForm {
    /** The cloud's KMS DNS name (for example `azkms.core.windows.net`). */
    DnsName = "DnsName",
    /** The first KMS IP address: for custom DNS servers that cannot resolve the KMS name. */
    IpAddress = "IpAddress",
}

/** How the activation script reaches the guest. */
export enum ActivationMechanism {
    /** A CustomScriptExtension (Azure allows one per Windows VM). */
    CustomScriptExtension = "CustomScriptExtension",
    /** A managed Run Command: for VMs that already carry a CustomScriptExtension. */
    RunCommand = "RunCommand",
}

/** How a `KmsNetwork` subnet reaches public endpoints such as Azure KMS. */
export enum ExplicitOutbound {
    /** A Standard NAT gateway with a static Standard public IP on the subnet. */
    NatGateway = "NatGateway",
    /** No outbound resource: a hub (firewall with SNAT, NVA) provides egress. */
    None = "None",
}

/** An on-premises (or self-hosted) KMS host reached over VPN or ExpressRoute. */
export interface CustomKmsServer {
    /** Host name or IPv4 address the guest points `slmgr /skms` at. */
    host: string;
    /** TCP port of the KMS host. Default 1688. */
    port?: number;
    /** CIDR prefixes of the KMS host(s): the destination of the NSG rule and the guest firewall rule. */
    addressPrefixes: string[];
}

/** What to do when the subnet check finds a VM's path to KMS blocked (a route, an NSG rule, a firewall, or a private subnet with no way out). */
export enum PrivateSubnetCheck {
    /** Log a warning once per subnet (default): preview and update go on. */
    Warn = "Warn",
    /** Fail the deployment: for teams that want it strict. */
    Error = "Error",
    /** Do not read the subnet, its route table or its NSG. */
    Off = "Off",
}

/** Whether the guest activated, read from the result line of the extension's or run command's output. */
export enum ActivationStatus {
    /** `slmgr /ato` succeeded in this run. */
    Activated = "activated",
    /** Windows was already licensed: nothing to activate. */
    Licensed = "licensed",
    /** Not activated yet: Windows retries by itself (KMS unreachable or busy); the result's diagnosis says why. */
    Pending = "pending",
    /** A step failed in the guest, or activation failed with a code that never fixes itself (wrong key, clock skew, ...). */
    Error = "error",
    /** A Windows client edition given no explicit key: it is licensed by subscription activation, not by KMS. */
    Skipped = "skipped",
    /** No result line could be read: not read (preview, `readActivationResult: false`, a scale set), or the output holds none. */
    Unknown = "unknown",
}

/** Azure Hybrid Benefit for a Windows VM: which licence you bring. */
export enum WindowsLicenseType {
    /** Windows Server with Software Assurance or subscription licences. */
    Windows_Server = "Windows_Server",
    /** Windows client (10/11) with multi-tenant hosting rights. */
    Windows_Client = "Windows_Client",
}

/**
 * Security type of a `KmsWindowsVm`. Trusted Launch (secure boot and a virtual TPM) needs a Generation 2 image;
 * Standard is a VM without them.
 */
export enum VmSecurityType {
    /** Secure boot and vTPM on (`securityProfile.securityType: TrustedLaunch`). Generation 2 images only. */
    TrustedLaunch = "TrustedLaunch",
    /** No secure boot, no vTPM: no `securityProfile` is sent, which is Standard in the API version the provider uses. */
    Standard = "Standard",
}

/** Storage type of a `KmsWindowsVm` data disk. */
export enum DataDiskStorageType {
    /** Standard HDD, locally redundant. */
    Standard_LRS = "Standard_LRS",
    /** Standard SSD, locally redundant. */
    StandardSSD_LRS = "StandardSSD_LRS",
    /** Standard SSD, zone-redundant. */
    StandardSSD_ZRS = "StandardSSD_ZRS",
    /** Premium SSD, locally redundant. */
    Premium_LRS = "Premium_LRS",
    /** Premium SSD, zone-redundant. */
    Premium_ZRS = "Premium_ZRS",
    /** Premium SSD v2: data disks only, needs `zone`, host caching `None`. */
    PremiumV2_LRS = "PremiumV2_LRS",
    /** Ultra Disk: data disks only, needs `zone`, host caching `None`; turns on the VM's Ultra SSD capability. */
    UltraSSD_LRS = "UltraSSD_LRS",
}

/** Host caching of a `KmsWindowsVm` data disk. */
export enum DataDiskCaching {
    /** No host caching (the only choice for `PremiumV2_LRS` and `UltraSSD_LRS`; best for write-heavy logs). */
    None = "None",
    /** Reads cached on the host (typical for database data files). */
    ReadOnly = "ReadOnly",
    /** Reads and writes cached on the host. */
    ReadWrite = "ReadWrite",
}
