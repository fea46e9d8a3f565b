// What the WindowsEmulator module asks of the emulated machine (served by network.js on the management port): WMI,
// events, registry.
"use strict";
const windows = require("./windows");

function answer(what, input) {
    try {
        const state = windows.load();
        let result;
        if (what === "wmi") result = input.query ? windows.wql(state, input.query) : windows.wql(state, `SELECT * FROM ${input.class}${input.filter ? ` WHERE ${input.filter}` : ""}`);
        else if (what === "events") result = windows.events(state, input);
        else if (what === "registry") result = windows.registry(state, input.path) ?? null;
        else throw new Error(`unknown request ${what}`);
        return { ok: result };
    } catch (e) {
        return { error: e.message };
    }
}

module.exports = { answer };
