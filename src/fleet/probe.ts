/**
 * `--probe`: asks a guest that carries no result line of ours for its true licence state, through action Run Command
 * `RunPowerShellScript` (facts §7: runs as LocalSystem, keeps the last 4,096 bytes of output) with the guest script as
 * shipped and its settings in report-only mode: no `/ipk`, `/skms`, `/ato` and no firewall change, so a probe
 * changes nothing on a VM this package never deployed. Opt-in: it runs code in guests.
 */
import type { ComputeManagementClient } from "@azure/arm-compute";
import { GuestSettings, activationScript, encodeSettings, resolveActivation } from "../guest/render";
import { AzureCloud } from "../types";
import { ReadStatus, statusOfOutput, stdOutOf } from "./status";

/** The settings a probe runs the guest script with. */
export function probeSettings(cloud: AzureCloud): GuestSettings {
    const { settings } = resolveActivation({ cloud, configureGuestFirewall: false }, false);
    return { ...settings, configureFirewall: false, reportOnly: true };
}

/** The action Run Command request body of a probe. */
export function probeRequest(settings: GuestSettings): { commandId: string; script: string[]; parameters: { name: string; value: string }[] } {
    return {
        commandId: "RunPowerShellScript",
        script: activationScript().split(/\r?\n/),
        parameters: [{ name: "Settings", value: encodeSettings(settings) }],
    };
}

/** Which machine to probe: a VM, or a uniform scale set's instance (its own Run Command API). */
export interface ProbeTarget {
    resourceGroup: string;
    /** VM name, or for an instance its display name (for messages). */
    name: string;
    scaleSet?: string;
    instanceId?: string;
}

/** Runs the probe on one VM or instance and reads its result line; an error of the Run Command itself gives `unknown`, saying why. */
export async function probeVm(compute: ComputeManagementClient, target: ProbeTarget, settings: GuestSettings): Promise<ReadStatus> {
    const vmName = target.name;
    try {
        const request = probeRequest(settings);
        const result =
            target.instanceId !== undefined
                ? await compute.virtualMachineScaleSetVMs.runCommand(target.resourceGroup, target.scaleSet ?? "", target.instanceId, request)
                : await compute.virtualMachines.runCommand(target.resourceGroup, vmName, request);
        return statusOfOutput(stdOutOf(result.value), "probe", `probe (Run Command) of ${vmName}`);
    } catch (err) {
        const e = err as { statusCode?: number; code?: string; message?: string };
        return { status: "unknown", source: "probe", diagnosis: [`probe (Run Command) of ${vmName} failed: ${e.statusCode ?? ""} ${e.code ?? ""} ${String(e.message ?? err).split(/\r?\n/)[0].slice(0, 200)}`.replace(/\s+/g, " ")] };
    }
}
