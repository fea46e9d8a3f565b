import * as pulumi from "@pulumi/pulumi";
import type * as inputs from "@pulumi/azure-native/types/input";
import { ActivationScriptOptions, renderActivationScript } from "../guest/render";
import * as validate from "../validate";
import { ACTIVATION_RESOURCE_NAME, CUSTOM_SCRIPT_EXTENSION } from "./kmsActivation";

/**
 * The activation as an entry of a scale set's `virtualMachineProfile.extensionProfile.extensions`, for scale sets
 * whose program writes their extensions inline (a standalone `KmsActivation` extension would fight the inline list).
 * The same command as `KmsActivation` (a secret in `protectedSettings`) and the same `forceUpdateTag`; the same
 * checks (a KMS client key only, and the one `imageSku` names). Without `cloud`, the provider config's cloud.
 */
export function kmsActivationScaleSetExtension(options: ActivationScriptOptions = {}): inputs.compute.VirtualMachineScaleSetExtensionArgs {
    validate.kmsClientKey("productKey", options.productKey, options.imageSku);
    const rendered = renderActivationScript({ ...options, cloud: validate.effectiveCloud(options.cloud) });
    return {
        name: ACTIVATION_RESOURCE_NAME,
        ...CUSTOM_SCRIPT_EXTENSION,
        forceUpdateTag: rendered.fingerprint,
        protectedSettings: pulumi.secret({ commandToExecute: rendered.commandToExecute }),
    };
}
