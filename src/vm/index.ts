export { KmsActivation } from "./kmsActivation";
export type { KmsActivationArgs, KmsActivationOptions } from "./kmsActivation";
export { KmsWindowsVm } from "./kmsWindowsVm";
export { kmsActivationScaleSetExtension } from "./scaleSetExtension";
export type { KmsWindowsVmArgs, MarketplaceImage, VhdImport, DataDisk } from "./kmsWindowsVm";
