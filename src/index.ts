export { AzureCloud, KmsHostForm, ActivationMechanism, ExplicitOutbound, PrivateSubnetCheck, ActivationStatus, WindowsLicenseType, VmSecurityType, DataDiskStorageType, DataDiskCaching } from "./types";
export type { CustomKmsServer } from "./types";
export { kmsEndpoint, kmsClientKeyForSku, kmsClientKeyProduct, windowsClientKeys, windowsServerReleases, ServerEdition, KMS_PORT } from "./kms";
export type { KmsEndpointInfo, WindowsServerRelease } from "./kms";
export { KmsEgressRules, KmsFirewallRules, KmsNetwork } from "./network";
export type { KmsEgressRulesArgs, KmsFirewallRulesArgs, KmsNetworkArgs } from "./network";
export { KmsActivation, KmsWindowsVm, kmsActivationScaleSetExtension } from "./vm";
export type { KmsActivationArgs, KmsActivationOptions, KmsWindowsVmArgs, MarketplaceImage, VhdImport, DataDisk } from "./vm";
export { renderActivationScript, renderDetectionTable, MAX_COMMAND_LENGTH, guestKeyAction, parseActivationResult, RESULT_MARKER } from "./guest";
export type {
    ActivationScriptOptions,
    ActivationScriptParameter,
    RenderedActivationScript,
    GuestLicenseState,
    GivenKey,
    KeyAction,
    ActivationResult,
    GuestLicence,
    GuestOs,
    GuestProbe,
} from "./guest";
export { KmsInputError } from "./validate";
