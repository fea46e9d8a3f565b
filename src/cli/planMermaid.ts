// `plan`'s Mermaid format: the resource tree and the reachability paths as a flowchart, over the plan model.
import { PACKAGE_TYPE, Plan } from "./planModel";
import { reachabilityMermaid } from "./reachability";
import { mermaidLabel } from "./sanitize";

function nodeId(name: string): string {
    return `r_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The resource tree as a Mermaid flowchart, with the edges the guest activation waits for. */
export function renderMermaid(plan: Plan): string {
    const lines = ["flowchart TD", `    stack["${mermaidLabel(plan.project)} (offline plan)"]`];
    for (const r of plan.resources) {
        const kind = r.type.split(":").pop() ?? r.type;
        lines.push(`    ${nodeId(r.name)}["${mermaidLabel(kind)}<br/>${mermaidLabel(r.name)}"]`);
        lines.push(`    ${r.parent ? nodeId(r.parent) : "stack"} --> ${nodeId(r.name)}`);
        if (r.type.startsWith(PACKAGE_TYPE)) {
            lines.push(`    class ${nodeId(r.name)} component`);
        }
    }
    for (const a of plan.activations) {
        for (const w of a.waitsFor) {
            lines.push(`    ${nodeId(w.name)} -. activation waits for .-> ${nodeId(a.resource)}`);
        }
    }
    lines.push("    classDef component fill:#e8f0fe,stroke:#1a73e8");
    // Each Windows VM's path to KMS as the reachability engine judged it (the first KMS address's steps).
    lines.push(...reachabilityMermaid(plan.reachability));
    return lines.join("\n");
}
