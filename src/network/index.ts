export { KmsEgressRules } from "./kmsEgressRules";
export type { KmsEgressRulesArgs } from "./kmsEgressRules";
export { KmsFirewallRules } from "./kmsFirewallRules";
export type { KmsFirewallRulesArgs } from "./kmsFirewallRules";
export { KmsNetwork } from "./kmsNetwork";
export type { KmsNetworkArgs } from "./kmsNetwork";
