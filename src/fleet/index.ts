/** Reading a live fleet through Azure's SDK clients, and its reports (text, JSON, HTML). */
export { fleetClients, defaultCredential, cloudOfArmEndpoint, ARM_ENDPOINTS } from "./clients";
export type { ArmConnection, FleetClients } from "./clients";
export { readFleet, fleetIsFine, mapLimit, FleetAccessError } from "./read";
export type { FleetOptions } from "./read";
export { renderFleetText, renderFleetJson, summaryLine } from "./report";
export { renderFleetHtml } from "./html";
export { staleRouteTable, staleNsg, staleRuleCollectionGroup, kmsDrift } from "./stale";
export { probeSettings, probeRequest } from "./probe";
export * from "./types";
