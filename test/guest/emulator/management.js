// What the WindowsEmulator module asks of the emulated machine (served by network.js on the management port): WMI
// queries and methods, events, registry. Answers may be promises (a WMI method takes its time; a stuck one never ends).
"use strict";
const windows = require("./windows");

// A licensing service or event log that does not answer (state.hang holds "wmi" or "events"): the call never returns.
// Neither WMI (Get-WmiObject, a method) nor Get-WinEvent has a timeout of its own (facts section 7); only the caller's
// bound (Get-CimInstance -OperationTimeoutSec, a job or runspace it waits for) ends the wait.
const never = () => new Promise(() => undefined);

function answer(what, input) {
    try {
        const state = windows.load();
        const hang = state.hang ?? [];
        if ((what === "wmi" || what === "method") && hang.includes("wmi")) return never();
        if (what === "events" && hang.includes("events")) return never();
        let result;
        if (what === "wmi") result = input.query ? windows.wql(state, input.query) : windows.wql(state, `SELECT * FROM ${input.class}${input.filter ? ` WHERE ${input.filter}` : ""}`);
        else if (what === "events") result = windows.events(state, input);
        else if (what === "registry") result = windows.registry(state, input.path) ?? null;
        else if (what === "method") {
            return windows.wmiMethod(input.class, input.id, input.method, input.arguments ?? {}).then(
                (returnValue) => ({ ok: { ReturnValue: returnValue } }),
                (e) => (e instanceof windows.WmiError ? { error: e.message, hr: e.hr } : { error: e.message }),
            );
        } else throw new Error(`unknown request ${what}`);
        return { ok: result };
    } catch (e) {
        return { error: e.message };
    }
}

module.exports = { answer };
