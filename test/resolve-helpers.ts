// Shared by the resolver tests (issue 29): they run without the mock engine, so anything a resolver registered or
// read would go through the SDK's resource functions, watched here.
import * as pulumi from "@pulumi/pulumi";
import * as resourceRuntime from "@pulumi/pulumi/runtime/resource";

/** Spies on the SDK's registerResource and readResource for each test; `none()` says neither was called. */
export function watchResources(): { none: () => void } {
    let registered: jest.SpyInstance;
    let read: jest.SpyInstance;
    beforeEach(() => {
        registered = jest.spyOn(resourceRuntime, "registerResource");
        read = jest.spyOn(resourceRuntime, "readResource");
    });
    afterEach(() => jest.restoreAllMocks());
    return {
        none: () => {
            expect(registered).not.toHaveBeenCalled();
            expect(read).not.toHaveBeenCalled();
        },
    };
}

/** A plan with every Output replaced by a marker: what two plans of the same args must share. */
export function shape(value: unknown): unknown {
    if (pulumi.Output.isInstance(value)) {
        return "<output>";
    }
    if (Array.isArray(value)) {
        return value.map(shape);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
    }
    return value;
}

/** Freezes `value` and everything in it: a resolver that wrote to its args would throw. */
export function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
        Object.values(value).forEach(deepFreeze);
        Object.freeze(value);
    }
    return value;
}
