/**
 * The reachability engine: one judgement of whether Windows activation traffic gets to KMS, shared by the policy
 * pack, the `audit` command and the components. Pure code: no Pulumi, no I/O.
 */
export { decideReachability, cloudKmsDestination, customKmsDestination } from "./engine";
export { deriveEffectiveRoutes, systemRoutes } from "./routes";
export { DEFAULT_OUTBOUND_RULES } from "./nsg";
export * from "./types";
export { pathFactsFromArm, routeTableFromArm, nsgFromArm, subnetFromArm, nicFromArm, ruleCollectionGroupFromArm, firewallNextHopFromArm, flatten } from "./arm";
export type { ArmPath, ArmObject, SubnetEgress, NicEgress } from "./arm";
export { AzureJsonError, pathFactsFromAzureCli, effectiveRoutesFromJson, effectiveNsgsFromJson, subnetFromJson, nicFromJson } from "./azureJson";
export type { AzureCliOutputs } from "./azureJson";
