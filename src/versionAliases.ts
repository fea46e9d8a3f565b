import * as pulumi from "@pulumi/pulumi";

// azure-native v3 gives every resource an alias per old API-version type (`azure-native:network/v20230501:Route`,
// 29 to 60 each) so a stack can move from a versioned type to the default one. The SDK turns each alias into a URN
// Output at construction (pulumi/pulumi#10010), which makes up most of a fleet's evaluation time under a component.
// The package only ever creates default types, so under its components those aliases can never match anything.
const VERSIONED_TYPE = /^azure-native:[^:/]+\/v\d[^:]*:[^:]+$/;

function isVersionedTypeAlias(alias: unknown): boolean {
    if (typeof alias !== "object" || alias === null || pulumi.Output.isInstance(alias) || alias instanceof Promise) {
        return false;
    }
    const type = (alias as pulumi.Alias).type;
    return Object.keys(alias).length === 1 && typeof type === "string" && VERSIONED_TYPE.test(type);
}

/** Drops azure-native's version-only type aliases from a child resource's options. */
export const dropVersionedTypeAliases: pulumi.ResourceTransformation = ({ props, opts }) =>
    opts.aliases?.some(isVersionedTypeAlias)
        ? { props, opts: { ...opts, aliases: opts.aliases.filter((alias) => !isVersionedTypeAlias(alias)) } }
        : undefined;

/** A component's options with `dropVersionedTypeAliases` for all its children (nested components inherit it). */
export function componentOptions(opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions {
    return { ...opts, transformations: [...(opts?.transformations ?? []), dropVersionedTypeAliases] };
}
