import { AzureCloud } from "../types";

/** The provider config that names the cloud azure-native deploys to. */
export const ENVIRONMENT_CONFIG_KEY = "azure-native:environment";

// azure-native's names for its clouds (the ARM endpoints it talks to) and the KMS that belongs to each.
const CLOUD_OF_ENVIRONMENT: Record<string, AzureCloud> = {
    public: AzureCloud.AzurePublic,
    usgovernment: AzureCloud.AzureUSGovernment,
    china: AzureCloud.AzureChina,
};

/**
 * The cloud an `azure-native:environment` value names (any case; unset or empty means public), or undefined for a
 * name this package does not know. A table only: the input is read and refused where it is read
 * (`validate.effectiveCloud`).
 */
export function cloudOfEnvironment(environment: string | undefined): AzureCloud | undefined {
    if (environment === undefined || environment === "") {
        return AzureCloud.AzurePublic;
    }
    return CLOUD_OF_ENVIRONMENT[environment.toLowerCase()];
}
