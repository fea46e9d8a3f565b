// `plan`'s JSON format: the plan model itself (planModel.ts), indented; its fields are the documented JSON schema.
import { Plan } from "./planModel";

/** The plan as JSON, for scripts and CI. */
export function renderJson(plan: Plan): string {
    return JSON.stringify(plan, null, 2);
}
