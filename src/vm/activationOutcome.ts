import * as compute from "@pulumi/azure-native/compute";
import * as pulumi from "@pulumi/pulumi";
import { ActivationResult, parseActivationResult } from "../guest/result";
import { ActivationMechanism, ActivationStatus } from "../types";

/** What a finished activation reported: its status and, when the output held one, the parsed result line. */
export interface ActivationOutcome {
    status: ActivationStatus;
    result: ActivationResult | undefined;
}

const UNKNOWN: ActivationOutcome = { status: ActivationStatus.Unknown, result: undefined };
const REPORTED = new Set<string>([ActivationStatus.Activated, ActivationStatus.Licensed, ActivationStatus.Pending, ActivationStatus.Error, ActivationStatus.Skipped]);

/** The outcome in an extension's or run command's output; `unknown` when it holds no well-formed result line. */
export function outcomeOfOutput(output: unknown): ActivationOutcome {
    if (typeof output !== "string") {
        return UNKNOWN;
    }
    let result: ActivationResult | undefined;
    try {
        result = parseActivationResult(output);
    } catch {
        // A truncated or foreign line: the guest's state cannot be told from it.
        return UNKNOWN;
    }
    if (result === undefined) {
        return UNKNOWN;
    }
    return { status: REPORTED.has(result.status) ? (result.status as ActivationStatus) : ActivationStatus.Unknown, result };
}

/** The CustomScriptExtension's StdOut substatus (`ComponentStatus/StdOut/succeeded`) in its instance view. */
export function extensionStdOut(instanceView: compute.GetVirtualMachineExtensionResult["instanceView"]): string | undefined {
    return instanceView?.substatuses?.find((s) => typeof s.code === "string" && s.code.startsWith("ComponentStatus/StdOut/"))?.message;
}

// A run command still running (or never started) has no final output yet.
const UNFINISHED_STATES = new Set(["Pending", "Running", "Unknown"]);

/** The output of a finished managed Run Command, from its instance view. */
export function runCommandOutput(instanceView: compute.GetVirtualMachineRunCommandByVirtualMachineResult["instanceView"] | undefined): string | undefined {
    if (!instanceView || (instanceView.executionState !== undefined && UNFINISHED_STATES.has(instanceView.executionState))) {
        return undefined;
    }
    return instanceView.output;
}

/** Where the activation ran and how. */
export interface ActivationTarget {
    resourceGroupName: pulumi.Input<string>;
    vmName: pulumi.Input<string>;
    mechanism: ActivationMechanism | undefined;
    /** The extension or run command: the read waits for it to be created or updated. */
    activation: pulumi.CustomResource;
    /** Name of the extension or run command on the VM. */
    resourceName: string;
}

// gRPC errors from the engine carry their text in `details`; their `message` can be empty.
function reason(err: unknown): string {
    const details = (err as { details?: unknown } | null)?.details;
    const text = typeof details === "string" && details !== "" ? details : err instanceof Error ? err.message : String(err);
    return text.split("\n")[0].slice(0, 300) || "no reason given";
}

async function readOnce(target: ActivationTarget, resourceGroupName: string, vmName: string, parent: pulumi.Resource, component: string): Promise<ActivationOutcome> {
    try {
        if (target.mechanism === ActivationMechanism.RunCommand) {
            const command = await compute.getVirtualMachineRunCommandByVirtualMachine(
                { resourceGroupName, vmName, runCommandName: target.resourceName, expand: "instanceView" },
                { parent },
            );
            return outcomeOfOutput(runCommandOutput(command.instanceView));
        }
        const extension = await compute.getVirtualMachineExtension({ resourceGroupName, vmName, vmExtensionName: target.resourceName, expand: "instanceView" }, { parent });
        return outcomeOfOutput(extensionStdOut(extension.instanceView));
    } catch (err) {
        // The activation itself succeeded (its resource exists); a failed read leaves the outcome open, it does not fail the update.
        pulumi.log.warn(`${component}: could not read the activation result of VM "${vmName}": ${reason(err)}; activationStatus is unknown`, parent);
        return UNKNOWN;
    }
}

/**
 * Reads the activation's outcome once its extension or run command has been created or updated (the read runs in an
 * `apply` of its ID). A preview never reads: the guest has not run yet, so the outcome is unknown until deploy.
 */
export function readActivationOutcome(target: ActivationTarget, read: pulumi.Input<boolean> | undefined, parent: pulumi.Resource, component: string): pulumi.Output<ActivationOutcome> {
    if (read === false) {
        return pulumi.output(UNKNOWN);
    }
    if (pulumi.runtime.isDryRun()) {
        return pulumi.output(pulumi.unknown as ActivationOutcome);
    }
    return pulumi
        .all([target.activation.id, target.resourceGroupName, target.vmName, read ?? true])
        .apply(([, resourceGroupName, vmName, enabled]) => (enabled ? readOnce(target, resourceGroupName, vmName, parent, component) : Promise.resolve(UNKNOWN)));
}
