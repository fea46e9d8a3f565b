export { KmsEgressRules } from "./kmsEgressRules";
export type { KmsEgressRulesArgs } from "./kmsEgressRules";
export { KmsNetwork } from "./kmsNetwork";
export type { KmsNetworkArgs } from "./kmsNetwork";
