import { PolicyResource, StackValidationPolicy } from "@pulumi/policy/policy";
import { KmsActivationPolicyOptions, KmsPolicyNames, KmsTarget, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { Tri, UNKNOWN, Unknown, and, firstDefined, get, or, textAt, textIs } from "./props";

const NAME = KmsPolicyNames.WindowsVmActivation;

const VM = "azure-native:compute:VirtualMachine";
const EXTENSION = "azure-native:compute:VirtualMachineExtension";
const RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine";

// The stack is every resource's ancestor: sharing it says nothing about which VM an activation is for.
function isStack(urn: string): boolean {
    return urn.split("::")[2] === "pulumi:pulumi:Stack";
}

/** What the package's `KmsActivation` names its extension or run command. */
const ACTIVATION_NAME = "KmsActivation";

function remediation(endpoint: string): string {
    return (
        "add a KmsActivation from azure-kms-activation for the VM (or build it with KmsWindowsVm; use mechanism RunCommand when the VM " +
        `already has a CustomScriptExtension), or a Run Command or CustomScriptExtension of your own that runs slmgr /skms ${endpoint} and /ato.`
    );
}

/** True for a VM whose props say Windows (a Windows configuration, OS disk type, or a Windows image publisher). */
export function isWindows(props: unknown): boolean {
    const windowsConfiguration = get(props, "osProfile", "windowsConfiguration");
    return (
        (windowsConfiguration !== undefined && windowsConfiguration !== null && windowsConfiguration !== UNKNOWN) ||
        textIs(textAt(props, "storageProfile", "osDisk", "osType"), "Windows") === true ||
        textIs(textAt(props, "storageProfile", "imageReference", "publisher"), "MicrosoftWindowsServer", "MicrosoftWindowsDesktop") === true
    );
}

function setsKmsHost(command: string | Unknown | undefined): Tri {
    if (command === UNKNOWN) {
        return undefined;
    }
    return command !== undefined && /\/skms|slmgr/i.test(command);
}

/**
 * Whether a resource activates Windows against a KMS: `undefined` when that is not known yet. The
 * extension's command is usually a secret computed at deploy time, and this package's own command is
 * compressed, so the name `KmsActivation` is accepted as proof too.
 */
function activates(resource: PolicyResource): Tri {
    const props = resource.props;
    if (resource.type === RUN_COMMAND) {
        const name = firstDefined(textAt(props, "runCommandName"), textAt(props, "name"));
        return or(textIs(name, ACTIVATION_NAME), setsKmsHost(textAt(props, "source", "script")));
    }
    const name = firstDefined(textAt(props, "vmExtensionName"), textAt(props, "name"));
    const handler = textAt(props, "type");
    // In a deployed stack `type` holds the ARM type (Microsoft.Compute/virtualMachines/extensions), not the
    // handler: then the command or the name has to tell.
    const isCse = typeof handler === "string" && handler.includes("/") ? true : textIs(handler, "CustomScriptExtension");
    const command = or(
        setsKmsHost(textAt(props, "settings", "commandToExecute")),
        setsKmsHost(textAt(props, "protectedSettings", "commandToExecute")),
    );
    return and(textIs(textAt(props, "publisher"), "Microsoft.Compute"), isCse, or(textIs(name, ACTIVATION_NAME), command));
}

function parentUrn(resource: PolicyResource): string | undefined {
    return resource.parent?.urn ?? resource.opts?.parent;
}

/** The component ancestors of a resource, nearest first (the stack itself is not one). */
function ancestors(resource: PolicyResource, byUrn: Map<string, PolicyResource>): string[] {
    const found: string[] = [];
    for (let urn = parentUrn(resource); urn !== undefined && !isStack(urn) && !found.includes(urn); ) {
        found.push(urn);
        const parent = byUrn.get(urn);
        urn = parent ? parentUrn(parent) : undefined;
    }
    return found;
}

function nameKey(props: unknown, ...names: string[]): { name: string | Unknown | undefined; resourceGroup: string | undefined } {
    const name = firstDefined(...names.map((n) => textAt(props, n)));
    const rg = textAt(props, "resourceGroupName");
    return { name, resourceGroup: typeof rg === "string" ? rg.toLowerCase() : undefined };
}

/**
 * The VMs an activation targets. `vmName` is matched by name; when it is not known yet (preview of a new
 * VM) the engine's property dependency names the VM, and failing that the VM that shares the
 * activation's component (a `KmsWindowsVm` holds both). `undefined`: the target cannot be told.
 */
function targets(activation: PolicyResource, vms: readonly PolicyResource[], byUrn: Map<string, PolicyResource>): PolicyResource[] | undefined {
    const fromDependency = (activation.propertyDependencies?.vmName ?? []).filter((d) => d.type === VM);
    if (fromDependency.length > 0) {
        return vms.filter((vm) => fromDependency.some((d) => d.urn === vm.urn));
    }
    const { name, resourceGroup } = nameKey(activation.props, "vmName");
    if (typeof name === "string") {
        const keyed = vms.map((vm) => ({ vm, key: nameKey(vm.props, "vmName", "name") }));
        const named = keyed.filter(
            ({ key }) =>
                typeof key.name === "string" &&
                key.name.toLowerCase() === name.toLowerCase() &&
                (key.resourceGroup === undefined || resourceGroup === undefined || key.resourceGroup === resourceGroup),
        );
        // No VM has that name: it may be one whose name is not known yet.
        return (named.length > 0 ? named : keyed.filter(({ key }) => key.name === UNKNOWN)).map(({ vm }) => vm);
    }
    const lineage = ancestors(activation, byUrn);
    const siblings = vms.filter((vm) => {
        const parent = parentUrn(vm);
        return parent !== undefined && lineage.includes(parent);
    });
    return siblings.length > 0 ? siblings : undefined;
}

function violation(vm: PolicyResource, target: KmsTarget): string {
    const name = nameKey(vm.props, "vmName", "name").name;
    return (
        `Windows VM "${typeof name === "string" ? name : vm.name}" has no KMS activation in this stack ` +
        "(no CustomScriptExtension or Run Command on it that sets the KMS host), so it depends on whatever key and KMS host its image carries. " +
        `Remediation: ${remediation(target.endpoint)}`
    );
}

/** Every Windows VM in the stack has a KMS activation. */
export function windowsVmActivationPolicy(options: KmsActivationPolicyOptions): StackValidationPolicy {
    return {
        name: NAME,
        description:
            "A Windows VM has a KMS activation in the stack: a CustomScriptExtension or Run Command on it that sets the KMS host (as KmsActivation does).",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps: remediation("<kms-host>:1688"),
        validateStack: (args, reportViolation) => {
            const target = resolveTarget(NAME, options, configOf(args));
            const resources = args.resources ?? [];
            const vms = resources.filter((r) => r.type === VM && isWindows(r.props));
            if (vms.length === 0) {
                return;
            }
            const byUrn = new Map(resources.map((r) => [r.urn, r]));
            const covered = new Set<PolicyResource>();
            for (const candidate of resources.filter((r) => r.type === EXTENSION || r.type === RUN_COMMAND)) {
                if (activates(candidate) === false) {
                    continue;
                }
                const reached = targets(candidate, vms, byUrn);
                if (reached === undefined) {
                    return; // An activation whose VM cannot be told may be for any of them: flag none.
                }
                reached.forEach((vm) => covered.add(vm));
            }
            for (const vm of vms.filter((v) => !covered.has(v))) {
                reportViolation(violation(vm, target), vm.urn);
            }
        },
    };
}
