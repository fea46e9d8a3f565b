export { renderActivationScript, renderDetectionTable, MAX_COMMAND_LENGTH } from "./render";
export type { ActivationScriptOptions, ActivationScriptParameter, RenderedActivationScript } from "./render";
export { guestKeyAction } from "./decision";
export type { GuestLicenseState, GivenKey, KeyAction } from "./decision";
export { parseActivationResult, RESULT_MARKER, CODE_DIAGNOSES, PERMANENT_CODES } from "./result";
export type { ActivationResult, GuestLicence, GuestOs, GuestProbe } from "./result";
