// The CustomScriptExtensions the program itself gives its scale sets: inline in a `VirtualMachineScaleSet`'s
// `virtualMachineProfile.extensionProfile.extensions`, or as a standalone `VirtualMachineScaleSetExtension`. Azure
// runs one CustomScriptExtension per Windows VM and refuses a scale set model with a second one (400 "Multiple
// VMExtensions per handler not supported for OS type 'Windows'", facts §5), and managed Run Command does not exist for
// a scale set model, so a `KmsActivation` on such a scale set can only fail at deploy time: it is refused before.
//
// The program's resources are seen through a stack transformation, the one SDK hook that sees every resource a
// program constructs (children of components included). It sees what is constructed after it is registered: the
// package registers it when it is loaded inside a program (a Node.js program loads it under the stack, before its own
// resources) and again, for a later stack, when a KmsActivation is constructed. A scale set outside the program
// (another stack, the portal) is not seen: README, "Scale sets", says what to do then.
import * as pulumi from "@pulumi/pulumi";
import * as validate from "../validate";

const SCALE_SET = "azure-native:compute:VirtualMachineScaleSet";
const SCALE_SET_EXTENSION = "azure-native:compute:VirtualMachineScaleSetExtension";
/** The name `KmsActivation` and `kmsActivationScaleSetExtension` give the activation's extension. */
const ACTIVATION_NAME = "KmsActivation";

/** What the program wrote that may give a scale set a CustomScriptExtension, as its inputs were given. */
interface ProgramExtensions {
    resource: pulumi.Resource;
    /** `inline` for a scale set's extension list, `standalone` for a VirtualMachineScaleSetExtension. */
    kind: "inline" | "standalone";
    /** The Pulumi resource name, which is what the user finds in their code. */
    resourceName: string;
    resourceGroupName: pulumi.Input<string> | undefined;
    /** The scale set's Azure name: given, or (an auto-named scale set) its `name` output once registered. */
    vmScaleSetName: () => pulumi.Input<string> | undefined;
    /** The extensions it holds: the inline list, or the one standalone extension. */
    extensions: pulumi.Input<ExtensionFields[]> | undefined;
}

interface ExtensionFields {
    name?: pulumi.Input<string>;
    publisher?: pulumi.Input<string>;
    type?: pulumi.Input<string>;
}

/** A CustomScriptExtension found on a scale set the program defines. */
export interface FoundCustomScript {
    extensionName: string;
    /** Where the program writes it, for the message. */
    where: string;
    /** True for the activation's own inline entry (`kmsActivationScaleSetExtension`). */
    isActivation: boolean;
}

const seen: ProgramExtensions[] = [];
/** The package's own scale-set extensions (a KmsActivation's child): not a second extension. */
const own = new WeakSet<pulumi.Resource>();
const watchedStacks = new WeakSet<object>();

/** The inline extension list: as it was written when the profile is a plain object, else once it resolves. */
function inlineExtensions(profile: unknown): pulumi.Input<ExtensionFields[]> {
    if (profile === undefined || profile === null) {
        return [];
    }
    if (!pulumi.Output.isInstance(profile) && !(profile instanceof Promise)) {
        const extensionProfile = (profile as { extensionProfile?: unknown }).extensionProfile;
        if (extensionProfile === undefined || extensionProfile === null) {
            return [];
        }
        if (!pulumi.Output.isInstance(extensionProfile) && !(extensionProfile instanceof Promise)) {
            return ((extensionProfile as { extensions?: pulumi.Input<ExtensionFields[]> }).extensions ?? []) as pulumi.Input<ExtensionFields[]>;
        }
    }
    return pulumi.output(profile as pulumi.Input<{ extensionProfile?: { extensions?: ExtensionFields[] } }>).apply((p) => p?.extensionProfile?.extensions ?? []);
}

function record(args: pulumi.ResourceTransformationArgs): undefined {
    const props = (args.props ?? {}) as Record<string, any>;
    if (args.type === SCALE_SET) {
        seen.push({
            resource: args.resource,
            kind: "inline",
            resourceName: args.name,
            resourceGroupName: props.resourceGroupName,
            // The resource's outputs exist only once its constructor has run: read when the check runs, not now.
            vmScaleSetName: () => props.vmScaleSetName ?? (args.resource as unknown as { name?: pulumi.Output<string> }).name,
            extensions: inlineExtensions(props.virtualMachineProfile),
        });
    } else if (args.type === SCALE_SET_EXTENSION) {
        seen.push({
            resource: args.resource,
            kind: "standalone",
            resourceName: args.name,
            resourceGroupName: props.resourceGroupName,
            vmScaleSetName: () => props.vmScaleSetName,
            extensions: [{ name: props.vmssExtensionName ?? args.name, publisher: props.publisher, type: props.type }],
        });
    }
    return undefined;
}

/**
 * Starts watching the program's scale sets and scale-set extensions on the current stack (once per stack). Returns
 * false when there is no stack: outside a program, or under a mock engine that runs without a stack resource.
 */
export function watchProgramScaleSets(): boolean {
    const stack = pulumi.runtime.getStackResource();
    if (stack === undefined) {
        return false;
    }
    if (!watchedStacks.has(stack)) {
        pulumi.runtime.registerStackTransformation(record);
        watchedStacks.add(stack);
    }
    return true;
}

/** Marks a scale-set extension the package itself creates, so the check does not count it. */
export function ownScaleSetExtension(resource: pulumi.Resource): void {
    own.add(resource);
}

/** Forgets every scale set and extension seen: for tests and tools that run several programs in one process. */
export function forgetProgramScaleSets(): void {
    seen.length = 0;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// A Windows CustomScriptExtension is the handler Microsoft.Compute.CustomScriptExtension; Azure compares the names
// case-insensitively. A missing publisher is counted: Azure refuses the extension without one anyway.
function isCustomScript(extension: { publisher?: unknown; type?: unknown }): boolean {
    return typeof extension.type === "string" && same(extension.type, "CustomScriptExtension") && (extension.publisher === undefined || (typeof extension.publisher === "string" && same(extension.publisher, "Microsoft.Compute")));
}

function found(entry: ProgramExtensions, extension: ExtensionFields): FoundCustomScript {
    const extensionName = typeof extension.name === "string" ? extension.name : "(unnamed)";
    return {
        extensionName,
        where:
            entry.kind === "inline"
                ? `inline in the extensionProfile of the program's VirtualMachineScaleSet "${entry.resourceName}"`
                : `the program's VirtualMachineScaleSetExtension "${entry.resourceName}"`,
        isActivation: entry.kind === "inline" && same(extensionName, ACTIVATION_NAME),
    };
}

/** What the entry gives the scale set, when it is that scale set; `values` are the entry's inputs, resolved. */
function match(entry: ProgramExtensions, values: [unknown, unknown, unknown], target: { resourceGroupName: string; vmScaleSetName: string }): FoundCustomScript | undefined {
    const [rg, scaleSet, extensions] = values;
    if (typeof rg !== "string" || typeof scaleSet !== "string" || !same(rg, target.resourceGroupName) || !same(scaleSet, target.vmScaleSetName)) {
        return undefined;
    }
    const cse = (Array.isArray(extensions) ? (extensions as ExtensionFields[]) : []).find((e) => e !== null && typeof e === "object" && isCustomScript(e));
    return cse === undefined ? undefined : found(entry, cse);
}

const isPlain = (value: unknown): boolean => !pulumi.Output.isInstance(value) && !(value instanceof Promise);

// Only the fields that identify a handler need to be plain to judge now (settings are often secret Outputs).
const isPlainList = (extensions: unknown): boolean =>
    isPlain(extensions) &&
    (!Array.isArray(extensions) ||
        extensions.every((e) => isPlain(e) && (e === null || typeof e !== "object" || [e.name, e.publisher, e.type].every(isPlain))));

/** The message that refuses a KmsActivation on a scale set that already has a CustomScriptExtension. */
export function customScriptConflict(target: { resourceGroupName: string; vmScaleSetName: string }, cse: FoundCustomScript): string {
    const scaleSet = `scale set "${target.vmScaleSetName}" in resource group "${target.resourceGroupName}"`;
    if (cse.isActivation) {
        return (
            `vmScaleSetName: ${scaleSet} already runs the activation: ${cse.where} holds the "${ACTIVATION_NAME}" entry of kmsActivationScaleSetExtension, ` +
            `and a second CustomScriptExtension is refused by Azure; remove this KmsActivation`
        );
    }
    return (
        `vmScaleSetName: ${scaleSet} already has CustomScriptExtension "${cse.extensionName}" (${cse.where}), and Azure allows one per Windows scale set ` +
        `("Multiple VMExtensions per handler not supported"); remove this KmsActivation and fold the activation into that one extension with ` +
        `kmsActivationScaleSetExtension (README, "Scale sets")`
    );
}

/**
 * Refuses a KmsActivation on a scale set the program gives a CustomScriptExtension. What is plain now (names and
 * extension lists written as values) is judged at once: a throw at construction. The rest is judged once it resolves,
 * a turn later, when the program's synchronous code has constructed everything (extensions written after the
 * activation count too): the returned Output then fails, and as nobody awaits it, Pulumi fails the program with the
 * message (its handler of unhandled rejections) during the preview `pulumi up` runs first. It is deliberately not in
 * the activation's `dependsOn`: waiting for the names of other scale sets would deadlock when one of them depends on
 * this activation. A value not known in a preview (a name Azure computes) is not judged then.
 */
export function checkScaleSetCustomScripts(
    context: { component: string; name: string },
    resourceGroupName: pulumi.Input<string>,
    vmScaleSetName: pulumi.Input<string>,
): pulumi.Output<void> {
    const refuse = (target: { resourceGroupName: string; vmScaleSetName: string }, cse: FoundCustomScript | undefined) => {
        if (cse !== undefined) {
            validate.inComponent(context.component, context.name, () => {
                throw new validate.KmsInputError(customScriptConflict(target, cse));
            });
        }
    };
    if (typeof resourceGroupName === "string" && typeof vmScaleSetName === "string") {
        const target = { resourceGroupName, vmScaleSetName };
        for (const entry of seen) {
            const values: [unknown, unknown, unknown] = [entry.resourceGroupName, entry.vmScaleSetName(), entry.extensions];
            if (isPlain(values[0]) && isPlain(values[1]) && isPlainList(values[2])) {
                refuse(target, match(entry, values, target));
            }
        }
    }
    return pulumi.all([resourceGroupName, vmScaleSetName, Promise.resolve()]).apply(([rg, scaleSet]) => {
        const target = { resourceGroupName: rg, vmScaleSetName: scaleSet };
        // The package's own scale-set extension is not a second one.
        const entries = seen.filter((entry) => !own.has(entry.resource));
        // Each judged on its own: one whose values are not known yet holds back no other.
        const judged = entries.map((entry) =>
            pulumi.all([entry.resourceGroupName, entry.vmScaleSetName(), entry.extensions]).apply((values) => refuse(target, match(entry, values as [unknown, unknown, unknown], target))),
        );
        return pulumi.all(judged).apply(() => undefined);
    });
}

// Loaded inside a program (under its stack): watch from here on, before the program's own resources.
watchProgramScaleSets();
