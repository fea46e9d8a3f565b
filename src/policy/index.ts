export { createKmsActivationPolicies, kmsActivationPolicies } from "./policies";
export type { KmsActivationPolicy } from "./policies";
export { KmsPolicyNames, kmsPolicyConfigSchema } from "./config";
export type { KmsActivationPolicyOptions, KmsPolicyConfig, KmsPolicyName } from "./config";
