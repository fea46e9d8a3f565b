// Test helpers: the recording mock engine (scripts/mock-engine.ts) plus jest set-up.
export * from "../scripts/mock-engine";
import { Harness, InvokeMock, mockPulumi, SUBSCRIPTION } from "../scripts/mock-engine";
import type { Input } from "@pulumi/pulumi";
import { inflateCommandLine } from "../src/guest/render";

/** The package under a fresh mock engine: `ctx.h` records, `ctx.m` is the package, imported after the mocks. */
export interface MockedPackage {
    h: Harness;
    m: typeof import("../src");
}

/**
 * Warnings the tests expect and do not print. Under the mock engine every invoke a test does not answer throws (the
 * house rule), and a `KmsActivation` in a test that does not model the guest reads its result with such an invoke
 * after `up`: the component then warns "could not read the activation result … activationStatus is unknown" and goes
 * on (src/vm/activationOutcome.ts). That is the behaviour test/activation-outcome.test.ts asserts; elsewhere it is the
 * expected consequence of not mocking the read, and printed it made ~61 console.warn blocks in a passing `npm test`.
 * Those lines are recorded here instead; every other console.warn still prints.
 */
export const quietedWarnings: string[] = [];
const UNREAD_ACTIVATION = /^warning: \[runtime\] \w+ "[^"]+": could not read the activation result of VM "[^"]+": (no reason given|unmocked invoke [^;]+); activationStatus is unknown$/;
const consoleWarn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === "string" && UNREAD_ACTIVATION.test(args[0])) {
        quietedWarnings.push(args[0]);
        return;
    }
    consoleWarn(...args);
};

/** A subnet as `network.getSubnet` returns it: private, with a NAT gateway, so VMs in it can activate. */
export const subnetWithNatGateway: InvokeMock = (token, inputs) =>
    token === "azure-native:network:getSubnet"
        ? {
              name: inputs.subnetName,
              defaultOutboundAccess: false,
              natGateway: { id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/natGateways/nat` },
          }
        : undefined;

/** Existing route tables and NSGs with nothing in them, as `getRouteTable` / `getNetworkSecurityGroup` return them. */
export const emptyRouteTablesAndNsgs: InvokeMock = (token, inputs) =>
    token === "azure-native:network:getRouteTable"
        ? { name: inputs.routeTableName, routes: [] }
        : token === "azure-native:network:getNetworkSecurityGroup"
          ? { name: inputs.networkSecurityGroupName, securityRules: [] }
          : undefined;

/** The first answer of several invoke mocks. */
export function anyOf(...mocks: InvokeMock[]): InvokeMock {
    return (token, inputs) => mocks.reduce<Record<string, unknown> | undefined>((found, mock) => found ?? mock(token, inputs), undefined);
}

/** Sets up mocks before the file's tests and clears the record before each test. `invoke` answers invokes. */
export function mockedPackage(invoke?: InvokeMock): MockedPackage {
    const ctx = {} as MockedPackage;
    beforeAll(async () => {
        ctx.h = await mockPulumi();
        if (invoke) {
            ctx.h.defaultInvoke = invoke;
        }
        ctx.m = await import("../src");
        // Each program claims, reads and adds to route tables, NSGs and VMs; a test that runs a second program after
        // reset starts afresh.
        const { forgetProgramState } = await import("../src/network/programState");
        const reset = ctx.h.reset.bind(ctx.h);
        ctx.h.reset = () => {
            reset();
            forgetProgramState();
        };
    });
    beforeEach(async () => {
        // Each test is its own program: nothing another test claimed or read carries over.
        ctx.h.reset();
    });
    return ctx;
}

/** The PowerShell a CustomScriptExtension command line inflates and runs: `$a=@{<arguments>}`, then the script. */
export function inflateCommand(commandLine: string): string {
    return inflateCommandLine(commandLine);
}

/** The guest settings (the `Settings` argument, decoded) inside a CustomScriptExtension command line. */
export function guestSettings(commandLine: string): { kmsHosts: string[]; kmsPort: number; kmsAddresses: string[]; keySource: string; detectionTable: string[]; configureFirewall: boolean; failOnActivationError: boolean; runTag: string } {
    const m = /Settings=-join\(\[Text\.Encoding\]::UTF8\.GetBytes\('([^']*)'\)/.exec(guestArguments(commandLine));
    if (!m) {
        throw new Error("no Settings argument in the command line");
    }
    return JSON.parse(m[1]);
}

/** The arguments (`$a=@{...}`) inside a CustomScriptExtension command line. */
export function guestArguments(commandLine: string): string {
    return /^\$a=@\{(.*)\}\n& \{\n/.exec(inflateCommand(commandLine))![1];
}

/** What `make` throws; a construction that is accepted fails the test here ("accepted"). */
export function errorOf(make: () => unknown): Error {
    try {
        make();
    } catch (err) {
        return err as Error;
    }
    throw new Error("accepted");
}

/** The message of what `make` throws (see errorOf). */
export function refusal(make: () => unknown): string {
    return errorOf(make).message;
}

/** The message an Output refused with (a value checked inside apply); one that resolves fails the test ("accepted"). */
export async function outputRefusal(value: Input<unknown>): Promise<string> {
    // A failed Output's three promises all reject: all are awaited, or node reports the others as unhandled.
    const internals = value as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
    internals.isKnown.catch(() => undefined);
    internals.isSecret.catch(() => undefined);
    try {
        await internals.promise();
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("accepted");
}

/** Loads a program afresh in its own module registry (so it can run again) and returns its exports (the stack's outputs). */
export function isolatedRequire(file: string): unknown {
    let exported: unknown;
    jest.isolateModules(() => {
        exported = require(file);
    });
    return exported;
}

/**
 * Runs `run` and then takes off the process `exit` listeners it added. Each program loaded by `isolatedRequire` gets
 * its own copy of @pulumi/pulumi, and each copy adds a leak detector on process exit (runtime/debuggable.js) the first
 * time it makes a promise: a dozen programs in one test file were a dozen listeners and Node's
 * MaxListenersExceededWarning. The copies are dropped with their test, so their detectors go too.
 */
export async function droppingExitListeners<T>(run: () => Promise<T>): Promise<T> {
    const before = new Set(process.listeners("exit"));
    try {
        return await run();
    } finally {
        for (const listener of process.listeners("exit")) {
            if (!before.has(listener)) {
                process.off("exit", listener);
            }
        }
    }
}
