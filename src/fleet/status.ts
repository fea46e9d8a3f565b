/**
 * A VM's activation state from what Azure keeps of the guest's output: the CustomScriptExtension's `StdOut`
 * substatus in the VM's instance view (facts §5: only the last 4,096 bytes are kept), a managed Run Command's
 * instance view `output`, or an action Run Command's `StdOut` status (`--probe`). The line itself is parsed by
 * `parseActivationResult`, as the components do.
 */
import { ActivationResult, RESULT_MARKER, parseActivationResult } from "../guest/result";
import { FLEET_STATUSES, FleetStatus, StatusSource } from "./types";

/** The name `KmsActivation` gives its extension and managed Run Command (src/vm/kmsActivation.ts). */
export const ACTIVATION_NAME = "KmsActivation";

/** An instance-view status as ARM returns it. */
export interface ArmStatus {
    code?: string;
    level?: string;
    displayStatus?: string;
    message?: string;
}

/** An extension's entry in a VM's (or instance's) instance view. */
export interface ExtensionView {
    name?: string;
    type?: string;
    statuses?: ArmStatus[];
    substatuses?: ArmStatus[];
}

/** What the status was read from, and what it says. */
export interface ReadStatus {
    status: FleetStatus;
    source: StatusSource;
    diagnosis: string[];
    result?: ActivationResult;
}

// The statuses a result line itself can carry: every fleet status but the two `fleet` gives when there is no line.
const REPORTED: readonly string[] = FLEET_STATUSES.filter((s) => s !== "no-activation" && s !== "unknown");

/** The `StdOut` substatus (`ComponentStatus/StdOut/succeeded`) of a CustomScriptExtension or action Run Command. */
export function stdOutOf(statuses: readonly ArmStatus[] | undefined): string | undefined {
    return statuses?.find((s) => typeof s.code === "string" && s.code.startsWith("ComponentStatus/StdOut/"))?.message;
}

/**
 * The status an output carries. No result line: `unknown`, saying why (the script did not reach its end, or the
 * output was cut to its last 4,096 bytes mid-line); a line that does not parse is `unknown` too, never a guess.
 */
export function statusOfOutput(output: string | undefined, source: StatusSource, where: string): ReadStatus {
    if (output === undefined || !output.includes(RESULT_MARKER)) {
        return { status: "unknown", source, diagnosis: [`${where} holds no ${RESULT_MARKER} line: the script did not finish, or its output was cut`] };
    }
    let result: ActivationResult | undefined;
    try {
        result = parseActivationResult(output);
    } catch (err) {
        return { status: "unknown", source, diagnosis: [`${where}: ${(err as Error).message}`] };
    }
    if (!result) {
        return { status: "unknown", source, diagnosis: [`${where} holds no ${RESULT_MARKER} line at the start of a line`] };
    }
    const status = REPORTED.includes(result.status) ? (result.status as FleetStatus) : "unknown";
    const diagnosis = status === "unknown" ? [`${where}: result status "${result.status}" is not one this version knows`, ...result.diagnosis] : result.diagnosis;
    return { status, source, diagnosis, result };
}

function failedStatus(statuses: readonly ArmStatus[] | undefined): string | undefined {
    const failed = statuses?.find((s) => s.level === "Error" || /\/failed$/i.test(s.code ?? ""));
    return failed ? `${failed.displayStatus ?? failed.code}${failed.message ? `: ${failed.message.split(/\r?\n/)[0].slice(0, 200)}` : ""}` : undefined;
}

/**
 * The status from a VM's extensions (instance view). Our extension is the one named `KmsActivation`; another
 * CustomScriptExtension whose output holds our line (the guest script run by hand or by another tool) counts too.
 * Undefined when no extension carries our work.
 */
export function statusFromExtensions(extensions: readonly ExtensionView[] | undefined): ReadStatus | undefined {
    const list = extensions ?? [];
    const ours = list.find((e) => e.name?.toLowerCase() === ACTIVATION_NAME.toLowerCase());
    if (ours) {
        const read = statusOfOutput(stdOutOf(ours.substatuses), "extension", `extension ${ours.name}`);
        const failed = failedStatus(ours.statuses);
        if (read.status === "unknown" && failed) read.diagnosis.push(`extension ${ours.name}: ${failed}`);
        return read;
    }
    const other = list.find((e) => stdOutOf(e.substatuses)?.includes(RESULT_MARKER));
    return other ? statusOfOutput(stdOutOf(other.substatuses), "extension", `extension ${other.name ?? "?"}`) : undefined;
}

/** A managed Run Command's instance view. */
export interface RunCommandView {
    executionState?: string;
    output?: string;
    error?: string;
    exitCode?: number;
}

/** The status from the managed Run Command `KmsActivation` (ActivationMechanism.RunCommand). */
export function statusFromRunCommand(view: RunCommandView | undefined): ReadStatus {
    const where = `run command ${ACTIVATION_NAME}`;
    // Pending/Running: no final output yet (the same rule the components' read follows).
    if (view?.executionState && ["Pending", "Running", "Unknown"].includes(view.executionState)) {
        return { status: "unknown", source: "run-command", diagnosis: [`${where} is ${view.executionState}: no result yet`] };
    }
    const read = statusOfOutput(view?.output, "run-command", where);
    if (read.status === "unknown" && view?.error) read.diagnosis.push(`${where} error output: ${view.error.split(/\r?\n/)[0].slice(0, 200)}`);
    return read;
}

/** The `PowerState/<state>` of an instance view, when there is one. */
export function powerStateOf(statuses: readonly ArmStatus[] | undefined): string | undefined {
    const code = statuses?.find((s) => s.code?.startsWith("PowerState/"))?.code;
    return code?.slice("PowerState/".length);
}

/** Nothing of ours on the VM. */
export function noActivation(powerState: string | undefined): ReadStatus {
    const diagnosis = [`no ${ACTIVATION_NAME} extension or run command on the VM: KmsActivation never ran here (fleet --probe asks the guest itself)`];
    if (powerState && powerState !== "running") diagnosis.push(`the VM is ${powerState}`);
    return { status: "no-activation", source: "none", diagnosis };
}
