import * as compute from "@pulumi/azure-native/compute";
import * as pulumi from "@pulumi/pulumi";
import { ActivationScriptOptions, activationKeyParameters, renderCommandLine, ResolvedActivation, resolveActivation } from "../guest/render";
import { ActivationMechanism, AzureCloud, CustomKmsServer, KmsHostForm } from "../types";
import * as validate from "../validate";
import { componentOptions } from "../versionAliases";

/** Guest activation options shared by `KmsActivation` and `KmsWindowsVm`. */
export interface KmsActivationOptions {
    /** Cloud whose KMS the guest activates against. Default `AzurePublic`. */
    cloud?: AzureCloud;
    /** An on-premises KMS host to use instead of the cloud's. */
    customKmsServer?: CustomKmsServer;
    /** Override the cloud's KMS IP addresses (they moved once, in 2023). */
    kmsIpAddresses?: string[];
    /** Name the KMS by DNS name (default) or IP address (custom DNS that cannot resolve it). */
    kmsHostForm?: pulumi.Input<KmsHostForm>;
    /** Marketplace image SKU the VM was built from: picks the KMS client key. */
    imageSku?: pulumi.Input<string>;
    /** KMS client setup key to install; kept secret. Default: from `imageSku`, else detected in the guest. */
    productKey?: pulumi.Input<string>;
    /** Add a guest firewall outbound allow for TCP 1688 to the KMS addresses. Default true. */
    configureGuestFirewall?: pulumi.Input<boolean>;
    /** Fail the deployment when the guest is not activated at the end. Default false: KMS retries by itself. */
    failOnActivationError?: pulumi.Input<boolean>;
    /** CustomScriptExtension (default) or RunCommand, for VMs that already carry a CustomScriptExtension. */
    mechanism?: ActivationMechanism;
    /** Change it to run the activation again with unchanged options. */
    rerunToken?: pulumi.Input<string>;
    /** IDs whose resources must exist before the guest activates, such as `KmsNetwork.egressRuleIds`. */
    activationWaitsFor?: pulumi.Input<string[]>;
}

/** Arguments of `KmsActivation`. */
export interface KmsActivationArgs extends KmsActivationOptions {
    /** Resource group of the VM. */
    resourceGroupName: pulumi.Input<string>;
    /** Name of the existing Windows VM. */
    vmName: pulumi.Input<string>;
    /** Region of the VM. Default: the resource group's region (set it when the VM lives elsewhere). */
    location?: pulumi.Input<string>;
    /** Tags for the extension or run command. */
    tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

type Resolved<T> = T extends pulumi.Input<infer U> ? U : never;

/**
 * `fn` of the values: computed now when every one is plain, else once they resolve. The plain path keeps a fleet's
 * per-VM cost down (each Output costs the SDK dozens of promises); both give the same resource inputs.
 */
function mapInputs<T extends readonly unknown[], R>(values: T, fn: (resolved: { [K in keyof T]: Resolved<T[K]> }) => R): pulumi.Input<R> {
    if (values.every((v) => !pulumi.Output.isInstance(v) && !(v instanceof Promise))) {
        return fn(values as unknown as { [K in keyof T]: Resolved<T[K]> });
    }
    return pulumi.all(values as unknown as pulumi.Input<unknown>[]).apply((resolved) => fn(resolved as unknown as { [K in keyof T]: Resolved<T[K]> })) as pulumi.Output<R>;
}

/** Checks the activation options that are plain values now; `Output`s are checked when they resolve. */
export function checkActivationOptions(options: KmsActivationOptions): void {
    validate.enumValue("mechanism", options.mechanism, ActivationMechanism);
    validate.enumValue("cloud", options.cloud, AzureCloud);
    validate.kmsIpAddresses("kmsIpAddresses", options.kmsIpAddresses);
    validate.customKmsServer("customKmsServer", options.customKmsServer);
    validate.ifPlain(options.kmsHostForm, (v) => validate.enumValue("kmsHostForm", v, KmsHostForm));
    validate.ifPlain(options.imageSku, (v) => validate.imageSku("imageSku", v));
    validate.ifPlain(options.productKey, (v) => validate.productKey("productKey", v));
    validate.ifPlain(options.rerunToken, (v) => validate.rerunToken("rerunToken", v));
}

/** Name of the extension or run command on the VM. */
export const ACTIVATION_RESOURCE_NAME = "KmsActivation";
/**
 * How long the Run Command may take: the script's worst case is about 14 minutes (every timeout hit, measured by
 * test/guest/behaviour.test.ts at a shrunk scale); the rest is Azure's start-up.
 */
export const RUN_COMMAND_TIMEOUT_SECONDS = 1200;

/**
 * Runs the guest activation on one existing Windows VM: `slmgr /ipk`, `/skms`, `/ato`, then a result line.
 * The command (which may hold a product key) is a secret in `protectedSettings`; the extension re-runs
 * exactly when the script or its non-secret arguments change (`forceUpdateTag` is their hash).
 */
export class KmsActivation extends pulumi.ComponentResource {
    /** `host:port` the guest was pointed at. */
    public readonly kmsEndpoint: pulumi.Output<string>;
    /** Where the key came from: `explicit`, `imageSku` or `detected` (in the guest). */
    public readonly keySource: pulumi.Output<string>;
    /** Hash of the script and its non-secret arguments: the extension's `forceUpdateTag`. */
    public readonly scriptFingerprint: pulumi.Output<string>;
    /** ID of the extension or run command. */
    public readonly activationResourceId: pulumi.Output<string>;

    constructor(name: string, args: KmsActivationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsActivation", name, {}, componentOptions(opts));
        const context = { component: "KmsActivation", name };
        validate.inComponent(context.component, name, () => {
            validate.required("resourceGroupName", args.resourceGroupName);
            validate.required("vmName", args.vmName);
            checkActivationOptions(args);
        });
        const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) =>
            validate.checkedInput(context, field, value, check);
        const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
        const vmName = checked("vmName", args.vmName, (f, v: string) => validate.azureName(f, v, 64));
        const location = args.location === undefined ? undefined : checked("location", args.location, validate.location);
        const kmsHostForm = checked("kmsHostForm", args.kmsHostForm, (f, v: KmsHostForm | undefined) => validate.enumValue(f, v, KmsHostForm));
        const imageSku = checked("imageSku", args.imageSku, validate.imageSku);
        const rerunToken = checked("rerunToken", args.rerunToken, validate.rerunToken);

        const hasProductKey = args.productKey !== undefined;
        const productKey = hasProductKey ? checked("productKey", args.productKey as pulumi.Input<string>, validate.productKey) : undefined;
        // Everything but the key: not secret, so plans and state show what the guest will do. Plain options (the
        // usual case) are resolved at once, so a fleet of VMs builds no Output chain per VM.
        const resolved = mapInputs([kmsHostForm, imageSku, args.configureGuestFirewall, args.failOnActivationError, rerunToken] as const, ([kmsHostForm, imageSku, configureGuestFirewall, failOnActivationError, rerunToken]) => {
            const options: ActivationScriptOptions = {
                cloud: args.cloud,
                customKmsServer: args.customKmsServer,
                kmsIpAddresses: args.kmsIpAddresses,
                kmsHostForm,
                imageSku,
                configureGuestFirewall,
                failOnActivationError,
                rerunToken,
            };
            return validate.inComponent(context.component, name, () => resolveActivation(options, hasProductKey));
        });
        const keyParameters = mapInputs([resolved, productKey] as const, ([r, key]) => activationKeyParameters(key ?? r.imageSkuKey));
        const field = <K extends keyof ResolvedActivation>(key: K) => mapInputs([resolved] as const, ([r]) => r[key]);
        // dependsOn takes Outputs: their resources (the egress rules) become dependencies, their values are ignored.
        const waitFor = args.activationWaitsFor === undefined ? undefined : pulumi.output(args.activationWaitsFor).apply(() => [] as pulumi.Resource[]);
        const childOpts: pulumi.CustomResourceOptions = { parent: this, dependsOn: waitFor };
        const common = { resourceGroupName, vmName, location, tags: args.tags };

        const activation =
            args.mechanism === ActivationMechanism.RunCommand
                ? new compute.VirtualMachineRunCommandByVirtualMachine(
                      `${name}-run-command`,
                      {
                          ...common,
                          runCommandName: ACTIVATION_RESOURCE_NAME,
                          source: { script: field("script") },
                          // Empty values are left out: the script's defaults are empty, and a bare "-Name" would not bind.
                          parameters: mapInputs([resolved] as const, ([r]) => r.parameters.filter((p) => p.value !== "")),
                          protectedParameters: pulumi.secret(keyParameters),
                          asyncExecution: false,
                          treatFailureAsDeploymentFailure: true,
                          timeoutInSeconds: RUN_COMMAND_TIMEOUT_SECONDS,
                      },
                      childOpts,
                  )
                : new compute.VirtualMachineExtension(
                      `${name}-extension`,
                      {
                          ...common,
                          vmExtensionName: ACTIVATION_RESOURCE_NAME,
                          publisher: "Microsoft.Compute",
                          type: "CustomScriptExtension",
                          typeHandlerVersion: "1.10",
                          autoUpgradeMinorVersion: true,
                          forceUpdateTag: field("fingerprint"),
                          protectedSettings: pulumi.secret(
                              mapInputs([resolved, keyParameters] as const, ([r, keys]) => ({
                                  commandToExecute: renderCommandLine(r.script, [...r.parameters, ...keys]),
                              })),
                          ),
                      },
                      childOpts,
                  );

        this.kmsEndpoint = pulumi.output(field("kmsEndpoint"));
        this.keySource = pulumi.output(field("keySource"));
        this.scriptFingerprint = pulumi.output(field("fingerprint"));
        this.activationResourceId = activation.id;
        this.registerOutputs({
            kmsEndpoint: this.kmsEndpoint,
            keySource: this.keySource,
            scriptFingerprint: this.scriptFingerprint,
            activationResourceId: this.activationResourceId,
        });
    }
}
