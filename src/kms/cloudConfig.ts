import * as pulumi from "@pulumi/pulumi";
import { AzureCloud } from "../types";
import { KmsInputError } from "../validate";

/** The provider config that names the cloud azure-native deploys to. */
export const ENVIRONMENT_CONFIG_KEY = "azure-native:environment";

// azure-native's names for its clouds (the ARM endpoints it talks to) and the KMS that belongs to each.
const CLOUD_OF_ENVIRONMENT: Record<string, AzureCloud> = {
    public: AzureCloud.AzurePublic,
    usgovernment: AzureCloud.AzureUSGovernment,
    china: AzureCloud.AzureChina,
};

/**
 * The cloud of the stack's default azure-native provider (`azure-native:environment`; unset means public). An explicit
 * provider resource passed in `opts.provider` is not read: its cloud cannot be known while the program runs, so give
 * `cloud` explicitly with one.
 */
export function cloudOfProviderConfig(): AzureCloud {
    const environment = new pulumi.Config("azure-native").get("environment");
    if (environment === undefined || environment === "") {
        return AzureCloud.AzurePublic;
    }
    const cloud = CLOUD_OF_ENVIRONMENT[environment.toLowerCase()];
    if (cloud === undefined) {
        const shown = JSON.stringify(environment.length > 40 ? `${environment.slice(0, 37)}...` : environment);
        throw new KmsInputError(
            `cloud: ${ENVIRONMENT_CONFIG_KEY} is ${shown}, not a cloud this package knows; set ${ENVIRONMENT_CONFIG_KEY} to public, usgovernment or china, or set cloud explicitly`,
        );
    }
    return cloud;
}

/** `cloud` when given (it wins), else the one of the provider config. */
export function effectiveCloud(cloud: AzureCloud | undefined): AzureCloud {
    return cloud ?? cloudOfProviderConfig();
}
