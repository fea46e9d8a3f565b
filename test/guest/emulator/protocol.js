// What the pieces of the emulated machine agree on (network.js, the program clients, run.ts). The management port,
// 47001, is also written in Modules/WindowsEmulator; the programs port in programs/program.c.
"use strict";

/** The management interface (WMI, events, registry) for the WindowsEmulator module. */
const MANAGEMENT_PORT = 47001;
/** The emulated programs (cscript.exe, netsh.exe) for their clients on PATH. */
const PROGRAMS_PORT = 47002;
/** Written once by network.js on stderr at a run's first request: pwsh's start-up is over (see run.ts's start gate). */
const STARTED_LINE = "KMS_EMULATOR: the guest's first request\n";

module.exports = { MANAGEMENT_PORT, PROGRAMS_PORT, STARTED_LINE };
