import * as compute from "@pulumi/azure-native/compute";
import * as pulumi from "@pulumi/pulumi";
import { ActivationScriptOptions, ActivationScriptParameter, activationKeyParameters, renderCommandLine, ResolvedActivation, resolveActivation } from "../guest/render";
import { ActivationResult } from "../guest/result";
import { claimActivationTarget } from "../network/ownership";
import { ActivationMechanism, ActivationStatus, AzureCloud, CustomKmsServer, KmsHostForm } from "../types";
import * as validate from "../validate";
import { componentOptions } from "../versionAliases";
import { readActivationOutcome } from "./activationOutcome";
import { checkScaleSetCustomScripts, ownScaleSetExtension, watchProgramScaleSets } from "./programScaleSets";

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
    /**
     * KMS client setup key (GVLK) to install; kept secret. Default: from `imageSku`, else detected in the guest. Any
     * other key (MAK, retail) is refused, and so is a KMS client key of another edition than `imageSku` names.
     */
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
    /** Read the guest's result after the extension or run command finished (`activationStatus`). Default true. */
    readActivationResult?: pulumi.Input<boolean>;
}

/** Arguments of `KmsActivation`. */
export interface KmsActivationArgs extends KmsActivationOptions {
    /** Resource group of the VM. */
    resourceGroupName: pulumi.Input<string>;
    /** Name of the existing Windows VM. Give this or `vmScaleSetName`. */
    vmName?: pulumi.Input<string>;
    /**
     * Name of an existing Windows scale set (Uniform or Flexible), instead of `vmName`: a scale-set extension named
     * `KmsActivation` (CustomScriptExtension only). `activationStatus` is then `unknown`: the result is per instance.
     * Refused when the program gives that scale set a CustomScriptExtension already (Azure allows one): fold the
     * activation into it with `kmsActivationScaleSetExtension`.
     */
    vmScaleSetName?: pulumi.Input<string>;
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

/**
 * Checks the activation options that are plain values now; `Output`s are checked when they resolve. `imageSku` is the
 * SKU the key must match when the caller knows a better one than `options.imageSku` (a VM's image).
 */
export function checkActivationOptions(options: KmsActivationOptions, imageSku: pulumi.Input<string> | undefined = options.imageSku): void {
    validate.enumValue("mechanism", options.mechanism, ActivationMechanism);
    validate.enumValue("cloud", options.cloud, AzureCloud);
    validate.kmsIpAddresses("kmsIpAddresses", options.kmsIpAddresses);
    validate.customKmsServer("customKmsServer", options.customKmsServer);
    validate.ifPlain(options.kmsHostForm, (v) => validate.enumValue("kmsHostForm", v, KmsHostForm));
    validate.ifPlain(options.imageSku, (v) => validate.imageSku("imageSku", v));
    validate.ifPlain(options.productKey, (key) => validate.kmsClientKey("productKey", key, typeof imageSku === "string" ? imageSku : undefined));
    validate.ifPlain(options.rerunToken, (v) => validate.rerunToken("rerunToken", v));
}

/**
 * The product key, checked as a KMS client key for `imageSku`: now when both are plain, else once both resolve (the
 * key's secretness is kept, and the message never holds it).
 */
function checkedKey(context: { component: string; name: string }, key: pulumi.Input<string>, imageSku: pulumi.Input<string | undefined>): pulumi.Input<string> {
    const check = (k: string, sku: string | undefined) => validate.inComponent(context.component, context.name, () => validate.kmsClientKey("productKey", k, sku));
    if (typeof key === "string" && (imageSku === undefined || typeof imageSku === "string")) {
        check(key, imageSku);
        return key;
    }
    return pulumi.all([key, imageSku]).apply(([k, sku]) => {
        check(k, sku);
        return k;
    });
}

/** The CustomScriptExtension handler the activation runs in, on a VM or a scale set. */
export const CUSTOM_SCRIPT_EXTENSION = {
    publisher: "Microsoft.Compute",
    type: "CustomScriptExtension",
    typeHandlerVersion: "1.10",
    autoUpgradeMinorVersion: true,
} as const;

// Exactly one target; a scale set runs extensions only (managed Run Command is per VM).
function checkTarget(args: KmsActivationArgs): void {
    if (args.vmName !== undefined && args.vmScaleSetName !== undefined) {
        throw new validate.KmsInputError("vmName, vmScaleSetName: both are set; give vmName for a VM or vmScaleSetName for a scale set, not both");
    }
    if (args.vmName === undefined && args.vmScaleSetName === undefined) {
        throw new validate.KmsInputError("vmName, vmScaleSetName: neither is set; give vmName for a VM or vmScaleSetName for a scale set");
    }
    validate.required(args.vmName !== undefined ? "vmName" : "vmScaleSetName", args.vmName ?? args.vmScaleSetName);
    if (args.vmScaleSetName !== undefined && args.mechanism === ActivationMechanism.RunCommand) {
        throw new validate.KmsInputError(
            "mechanism: RunCommand cannot target a scale set (a managed Run Command runs on one VM); leave mechanism out, a scale set gets the CustomScriptExtension",
        );
    }
}

type Context = { component: string; name: string };

/**
 * The guest side of an activation, decided once from the options: the cloud, the KMS the guest is pointed at and the
 * command it runs (`resolved`, plain when every option was), and the key's arguments (secret when given). `KmsWindowsVm`
 * resolves it for its VM and hands it down, so nothing is checked twice.
 */
export interface ActivationGuestPlan {
    /** Who the guest plan's refusals name (an Output that fails later names it too). */
    context: Context;
    /** The cloud whose KMS is used: `cloud`, else the stack's azure-native provider's. */
    cloud: AzureCloud;
    mechanism?: ActivationMechanism;
    /** The command, its non-secret arguments, fingerprint, endpoint and key source. */
    resolved: pulumi.Input<ResolvedActivation>;
    /** The script's secret arguments (the product key, or the key `imageSku` picks; none when detected in the guest). */
    keyParameters: pulumi.Input<ActivationScriptParameter[]>;
    readActivationResult?: pulumi.Input<boolean>;
}

/** What a `KmsActivation` builds: the target, checked, and its guest plan. Made by `resolveKmsActivation` or `activationArgsFor`. */
export interface KmsActivationPlan {
    context: Context;
    resourceGroupName: pulumi.Input<string>;
    target: { kind: "VM" | "scale set"; field: "vmName" | "vmScaleSetName"; name: pulumi.Input<string> };
    location?: pulumi.Input<string>;
    tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    activationWaitsFor?: pulumi.Input<string[]>;
    guest: ActivationGuestPlan;
}

// The constructor's args must stay the `KmsActivationArgs` interface (the schema is inferred from it), so a resolved plan
// travels beside the args object it was made with, never as a field a user could set.
const handedDown = new WeakMap<KmsActivationArgs, KmsActivationPlan>();

const checkedIn =
    (context: Context) =>
    <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void): pulumi.Input<T> =>
        validate.checkedInput(context, field, value, check);

/**
 * The guest plan of `options`, whose plain values `checkActivationOptions` has passed: the cloud decided, the Outputs
 * given their checks, and the command resolved (now when every option is plain, else once they resolve). `imageSku`
 * is the SKU that picks and matches the key when the caller knows it better than `options.imageSku` (a VM's image).
 */
export function resolveActivationGuest(context: Context, options: KmsActivationOptions, imageSku: pulumi.Input<string> | undefined = options.imageSku): ActivationGuestPlan {
    // Without `cloud`, the KMS of the cloud the stack's azure-native provider deploys to.
    const cloud = validate.inComponent(context.component, context.name, () => validate.effectiveCloud(options.cloud));
    const checked = checkedIn(context);
    const kmsHostForm = checked("kmsHostForm", options.kmsHostForm, (f, v: KmsHostForm | undefined) => validate.enumValue(f, v, KmsHostForm));
    const sku = checked("imageSku", imageSku, validate.imageSku);
    const rerunToken = checked("rerunToken", options.rerunToken, validate.rerunToken);
    const hasProductKey = options.productKey !== undefined;
    const productKey = hasProductKey ? checkedKey(context, options.productKey as pulumi.Input<string>, sku) : undefined;
    // Everything but the key: not secret, so plans and state show what the guest will do. Plain options (the
    // usual case) are resolved at once, so a fleet of VMs builds no Output chain per VM.
    const resolved = mapInputs(
        [kmsHostForm, sku, options.configureGuestFirewall, options.failOnActivationError, rerunToken] as const,
        ([kmsHostForm, imageSku, configureGuestFirewall, failOnActivationError, rerunToken]) => {
            const scriptOptions: ActivationScriptOptions = {
                cloud,
                customKmsServer: options.customKmsServer,
                kmsIpAddresses: options.kmsIpAddresses,
                kmsHostForm,
                imageSku,
                configureGuestFirewall,
                failOnActivationError,
                rerunToken,
            };
            return validate.inComponent(context.component, context.name, () => resolveActivation(scriptOptions, hasProductKey));
        },
    );
    const keyParameters = mapInputs([resolved, productKey] as const, ([r, key]) => activationKeyParameters(key ?? r.imageSkuKey));
    return { context, cloud, mechanism: options.mechanism, resolved, keyParameters, readActivationResult: options.readActivationResult };
}

/**
 * Args for the activation of a VM whose guest plan is already resolved (`KmsWindowsVm`'s own VM): the constructor builds
 * from the plan they carry and checks nothing again.
 */
export function activationArgsFor(
    guest: ActivationGuestPlan,
    target: { resourceGroupName: pulumi.Input<string>; vmName: pulumi.Input<string>; location?: pulumi.Input<string>; tags?: KmsActivationPlan["tags"]; activationWaitsFor?: pulumi.Input<string[]> },
): KmsActivationArgs {
    const args: KmsActivationArgs = { ...target };
    handedDown.set(args, {
        context: guest.context,
        resourceGroupName: target.resourceGroupName,
        target: { kind: "VM", field: "vmName", name: target.vmName },
        location: target.location,
        tags: target.tags,
        activationWaitsFor: target.activationWaitsFor,
        guest,
    });
    return args;
}

/**
 * Checks `KmsActivation`'s args (plain values now, with the same refusals as ever; Outputs once they resolve) and
 * decides what it builds. Pure: it creates no resource, so a refusal leaves nothing half-built.
 */
export function resolveKmsActivation(name: string, args: KmsActivationArgs, context: Context = { component: "KmsActivation", name }): KmsActivationPlan {
    validate.inComponent(context.component, context.name, () => {
        validate.required("resourceGroupName", args.resourceGroupName);
        checkTarget(args);
        checkActivationOptions(args);
    });
    const cloud = validate.inComponent(context.component, context.name, () => validate.effectiveCloud(args.cloud));
    const checked = checkedIn(context);
    const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
    const onScaleSet = args.vmScaleSetName !== undefined;
    const field = onScaleSet ? "vmScaleSetName" : "vmName";
    const targetName = checked(field, (onScaleSet ? args.vmScaleSetName : args.vmName) as pulumi.Input<string>, (f, v: string) => validate.azureName(f, v, 64));
    const location = args.location === undefined ? undefined : checked("location", args.location, validate.location);
    const guest = resolveActivationGuest(context, { ...args, cloud });
    const tags = args.tags === undefined ? undefined : checked("tags", args.tags, validate.tags);
    return {
        context,
        resourceGroupName,
        target: { kind: onScaleSet ? "scale set" : "VM", field, name: targetName },
        location,
        tags,
        activationWaitsFor: args.activationWaitsFor,
        guest,
    };
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
    /**
     * `activated`, `licensed`, `pending`, `error`, or `unknown` when no result line was read (a preview, or
     * `readActivationResult: false`, or output without one): read once the extension or run command has finished.
     */
    public readonly activationStatus: pulumi.Output<ActivationStatus>;
    /** The guest's parsed `KMS_ACTIVATION_RESULT` line (it never holds the key), or undefined when none was read. */
    public readonly activationResult: pulumi.Output<ActivationResult | undefined>;

    constructor(name: string, args: KmsActivationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsActivation", name, {}, componentOptions(opts));
        // Every plain value is checked (and the guest command chosen) before the first child exists; args a
        // KmsWindowsVm made from its own plan come with theirs (`activationArgsFor`) and are not checked again.
        const plan = handedDown.get(args) ?? resolveKmsActivation(name, args);
        const { context, resourceGroupName, target, guest } = plan;
        const onScaleSet = target.kind === "scale set";
        const vmName = target.name;
        const field = <K extends keyof ResolvedActivation>(key: K) => mapInputs([guest.resolved] as const, ([r]) => r[key]);
        // dependsOn takes Outputs: their resources (the egress rules) become dependencies, their values are ignored.
        const waitFor = plan.activationWaitsFor === undefined ? undefined : pulumi.output(plan.activationWaitsFor).apply(() => [] as pulumi.Resource[]);
        if (onScaleSet) {
            // A later stack in this process (an inline Automation API program) is watched from here on.
            watchProgramScaleSets();
            // A scale set the program already gives a CustomScriptExtension cannot take ours (src/vm/programScaleSets.ts).
            checkScaleSetCustomScripts(context, resourceGroupName, vmName);
        }
        const claim = claimActivationTarget(target.kind, target.field, resourceGroupName, vmName, `KmsActivation "${name}"`, this, opts?.parent);
        // The extension, run command or scale-set extension is always named KmsActivation on its VM: a replacement must
        // delete the old one first, or the create meets it (docs/lifecycle.md). azure-native answers the same for a
        // replace it detects; the option also covers replacements Pulumi decides (replaceOnChanges, a replaced parent).
        const childOpts: pulumi.CustomResourceOptions = {
            parent: this,
            dependsOn: claim && waitFor ? pulumi.all([claim, waitFor]).apply(([a, b]) => [...a, ...b]) : claim ?? waitFor,
            deleteBeforeReplace: true,
        };
        const common = { resourceGroupName, vmName, location: plan.location, tags: plan.tags };
        const keyParameters = guest.keyParameters;
        const protectedSettings = () =>
            pulumi.secret(mapInputs([guest.resolved, keyParameters] as const, ([r, keys]) => ({ commandToExecute: renderCommandLine(r.script, [...r.parameters, ...keys]) })));

        const activation = onScaleSet
            ? new compute.VirtualMachineScaleSetExtension(
                  `${name}-scale-set-extension`,
                  { resourceGroupName, vmScaleSetName: vmName, vmssExtensionName: ACTIVATION_RESOURCE_NAME, ...CUSTOM_SCRIPT_EXTENSION, forceUpdateTag: field("fingerprint"), protectedSettings: protectedSettings() },
                  childOpts,
              )
            : guest.mechanism === ActivationMechanism.RunCommand
                ? new compute.VirtualMachineRunCommandByVirtualMachine(
                      `${name}-run-command`,
                      {
                          ...common,
                          runCommandName: ACTIVATION_RESOURCE_NAME,
                          source: { script: field("script") },
                          // Empty values are left out: the script's defaults are empty, and a bare "-Name" would not bind.
                          parameters: mapInputs([guest.resolved] as const, ([r]) => r.parameters.filter((p) => p.value !== "")),
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
                          ...CUSTOM_SCRIPT_EXTENSION,
                          forceUpdateTag: field("fingerprint"),
                          protectedSettings: protectedSettings(),
                      },
                      childOpts,
                  );

        if (onScaleSet) {
            ownScaleSetExtension(activation);
        }

        this.kmsEndpoint = pulumi.output(field("kmsEndpoint"));
        this.keySource = pulumi.output(field("keySource"));
        this.scriptFingerprint = pulumi.output(field("fingerprint"));
        this.activationResourceId = activation.id;
        // A scale set's result is per instance (each instance view); the package reads none of them.
        const outcome = readActivationOutcome(
            { resourceGroupName, vmName, mechanism: guest.mechanism, activation, resourceName: ACTIVATION_RESOURCE_NAME },
            onScaleSet ? false : guest.readActivationResult,
            this,
            `KmsActivation "${name}"`,
        );
        this.activationStatus = outcome.apply((o) => o.status);
        this.activationResult = outcome.apply((o) => o.result);
        this.registerOutputs({
            kmsEndpoint: this.kmsEndpoint,
            keySource: this.keySource,
            scriptFingerprint: this.scriptFingerprint,
            activationResourceId: this.activationResourceId,
            activationStatus: this.activationStatus,
            activationResult: this.activationResult,
        });
    }
}
