export { kmsEndpoint, KMS_PORT } from "./endpoints";
export type { KmsEndpointInfo } from "./endpoints";
export { kmsClientKeyForSku, kmsClientKeyProduct, windowsClientKeys, windowsServerReleases, ServerEdition } from "./keys";
export type { WindowsServerRelease } from "./keys";
