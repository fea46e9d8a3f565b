import { PolicyPack } from "@pulumi/policy";
import { kmsActivationPolicies } from "azure-kms-activation/policy";

// Every policy is advisory and checks the Azure public cloud's KMS unless the policy config says otherwise
// (see README.md). For other defaults in code, build the list with createKmsActivationPolicies({ ... }).
new PolicyPack("azure-kms-activation", {
    policies: kmsActivationPolicies,
});
