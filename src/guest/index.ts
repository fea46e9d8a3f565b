export { renderActivationScript, renderDetectionTable, MAX_COMMAND_LENGTH } from "./render";
export type { ActivationScriptOptions, ActivationScriptParameter, RenderedActivationScript } from "./render";
