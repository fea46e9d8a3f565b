// The policy pack users run. PolicyPack comes from "@pulumi/policy/policy", the module that declares it: the package
// index of @pulumi/policy 1.21 re-exports names from a declaration file that has none, so it does not compile without
// skipLibCheck (Pulumi's own template tsconfig has no skipLibCheck).
import { PolicyPack } from "@pulumi/policy/policy";
import { kmsActivationPolicies } from "azure-kms-activation/policy";

// Every policy is advisory and checks the Azure public cloud's KMS unless the policy config says otherwise
// (see README.md). For other defaults in code, build the list with createKmsActivationPolicies({ ... }).
new PolicyPack("azure-kms-activation", {
    policies: kmsActivationPolicies,
});
