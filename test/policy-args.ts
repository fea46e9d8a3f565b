// Builds the arguments the policy engine passes to policies, by hand, so each policy runs without Pulumi.
import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { KmsActivationPolicy, kmsActivationPolicies } from "../src/policy";

// The engine's unknown-value proxy and sentinel (internal to @pulumi/policy, stable since 1.x): props
// wrapped with `preview` throw on unknown values exactly as they do during `pulumi preview`.
const proxy: { unknownCheckingProxy<T extends object>(value: T): T; unknownStringValue: string } = require("@pulumi/policy/proxy");
export const UNKNOWN_VALUE = proxy.unknownStringValue;
export function preview<T extends object>(props: T): T {
    return proxy.unknownCheckingProxy(props);
}

export const STACK_URN = "urn:pulumi:dev::kms::pulumi:pulumi:Stack::kms-dev";

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:dev::kms::${type}::${name}`;
}

export interface ResourceExtras {
    parent?: PolicyResource;
    propertyDependencies?: Record<string, PolicyResource[]>;
}

export function resource(type: string, name: string, props: Record<string, unknown>, extras: ResourceExtras = {}): PolicyResource {
    return {
        type,
        name,
        props,
        urn: urnOf(type, name),
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
            parent: extras.parent?.urn,
        },
        parent: extras.parent,
        dependencies: [],
        propertyDependencies: extras.propertyDependencies ?? {},
        isType: () => false,
        asType: () => undefined,
    };
}

export const stack = resource("pulumi:pulumi:Stack", "kms-dev", {});

export function component(type: string, name: string, parent: PolicyResource = stack): PolicyResource {
    return resource(type, name, {}, { parent });
}

export interface Violation {
    message: string;
    urn?: string;
}

function notApplicable(reason?: string): never {
    throw new Error(`not applicable: ${reason}`);
}

export function stackArgs(resources: PolicyResource[], config: object = {}): StackValidationArgs {
    return {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

export function resourceArgs(type: string, name: string, props: Record<string, unknown>, config: object = {}): ResourceValidationArgs {
    return {
        type,
        name,
        props,
        urn: urnOf(type, name),
        opts: resource(type, name, props).opts,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** Runs a stack policy; returns what it reported, in order. */
export async function runStack(policy: KmsActivationPolicy, resources: PolicyResource[], config: object = {}): Promise<Violation[]> {
    const reported: Violation[] = [];
    const report = jest.fn((message: string, urn?: string) => {
        reported.push(urn === undefined ? { message } : { message, urn });
    });
    await (policy as StackValidationPolicy).validateStack(stackArgs(resources, config), report);
    return reported;
}

/** What every policy of the default pack reports on the resources, by policy name (policies with no report left out). */
export async function packReport(resources: PolicyResource[], config: object = {}): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const p of kmsActivationPolicies) {
        const reported = await runStack(p, resources, config);
        if (reported.length > 0) out[p.name] = reported.map((v) => v.message);
    }
    return out;
}

/** Runs a resource policy on one resource; returns the messages it reported, in order. */
export async function runResource(
    policy: KmsActivationPolicy,
    type: string,
    props: Record<string, unknown>,
    config: object = {},
    name = "res",
): Promise<string[]> {
    const report = jest.fn();
    const validate = (policy as ResourceValidationPolicy).validateResource;
    const validations = Array.isArray(validate) ? validate : [validate];
    for (const v of validations) {
        await v?.(resourceArgs(type, name, props, config), report);
    }
    expect(report.mock.calls.every((call) => call.length === 1)).toBe(true);
    return report.mock.calls.map((call) => call[0] as string);
}
