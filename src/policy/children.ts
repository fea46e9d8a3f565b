import { PolicyResource } from "@pulumi/policy/policy";
import { UNKNOWN, Unknown, firstDefined, get, list, text, textAt } from "./props";

/**
 * A route table or an NSG and the routes or rules that land in it, whether written inline
 * (`RouteTable.routes`, `NetworkSecurityGroup.securityRules`) or as standalone children in the
 * same stack. Both forms end up in the same Azure object, so the policies judge them together.
 */
export interface ParentKind {
    parentType: string;
    /** Input naming the parent, e.g. `routeTableName`. */
    parentNameProperty: string;
    /** The inline list, e.g. `routes`. */
    inlineProperty: string;
    childType: string;
    /** Input of the child naming its parent, e.g. `routeTableName`. */
    childParentProperty: string;
    /** Input naming the child, e.g. `routeName`. */
    childNameProperty: string;
    /** Path segment of the parent in a child's resource ID, e.g. `routeTables`. */
    idSegment: string;
}

export const ROUTE_TABLES: ParentKind = {
    parentType: "azure-native:network:RouteTable",
    parentNameProperty: "routeTableName",
    inlineProperty: "routes",
    childType: "azure-native:network:Route",
    childParentProperty: "routeTableName",
    childNameProperty: "routeName",
    idSegment: "routeTables",
};

export const SECURITY_GROUPS: ParentKind = {
    parentType: "azure-native:network:NetworkSecurityGroup",
    parentNameProperty: "networkSecurityGroupName",
    inlineProperty: "securityRules",
    childType: "azure-native:network:SecurityRule",
    childParentProperty: "networkSecurityGroupName",
    childNameProperty: "securityRuleName",
    idSegment: "networkSecurityGroups",
};

/** A route or a rule: its properties and where it was declared. */
export interface Child {
    /** Its name, for messages. */
    name: string;
    /** Its properties (an inline entry, or the standalone resource's properties). */
    props: unknown;
    /** The resource that declares it: the parent for an inline entry. */
    resource: PolicyResource;
}

export interface Group {
    /** The parent's Azure name, or its resource name when that is not known. */
    displayName: string;
    /** The parent resource, when it is in the stack. */
    resource?: PolicyResource;
    children: Child[];
    /** True when some of its children could not be read (an unknown inline list): nothing may be concluded. */
    incomplete: boolean;
    // Matching keys: Azure names are case-insensitive.
    name?: string;
    resourceGroup?: string;
}

export interface Grouping {
    groups: Group[];
    /** Standalone children whose parent cannot be told yet: they might complete any group. */
    unplaced: Child[];
}

function fromId(id: string | Unknown | undefined, segment: string): string | undefined {
    if (typeof id !== "string") {
        return undefined;
    }
    const match = new RegExp(`/${segment}/([^/]+)`, "i").exec(id);
    return match ? match[1] : undefined;
}

function resourceGroupOf(props: unknown): string | undefined {
    const rg = firstDefined(textAt(props, "resourceGroupName"), fromId(textAt(props, "id"), "resourceGroups"));
    return typeof rg === "string" ? rg.toLowerCase() : undefined;
}

function sameGroupName(group: Group, name: string, resourceGroup: string | undefined): boolean {
    return (
        group.name === name.toLowerCase() &&
        (group.resourceGroup === undefined || resourceGroup === undefined || group.resourceGroup === resourceGroup)
    );
}

/** Collects the parents of `kind` in the stack and places every inline and standalone child in one. */
export function groupChildren(resources: readonly PolicyResource[], kind: ParentKind): Grouping {
    const groups: Group[] = [];
    const byUrn = new Map<string, Group>();
    for (const resource of resources.filter((r) => r.type === kind.parentType)) {
        const props = resource.props;
        // Outputs carry `name` and `id` rather than the input that named the table.
        const name = firstDefined(textAt(props, kind.parentNameProperty), textAt(props, "name"), fromId(textAt(props, "id"), kind.idSegment));
        const inline = list(get(props, kind.inlineProperty));
        const group: Group = {
            displayName: typeof name === "string" ? name : resource.name,
            resource,
            children: [],
            incomplete: inline === UNKNOWN,
            name: typeof name === "string" ? name.toLowerCase() : undefined,
            resourceGroup: resourceGroupOf(props),
        };
        for (const entry of Array.isArray(inline) ? inline : []) {
            const entryName = textAt(entry, "name");
            group.children.push({ name: typeof entryName === "string" ? entryName : "(unnamed)", props: entry, resource });
        }
        groups.push(group);
        byUrn.set(resource.urn, group);
    }

    const unplaced: Child[] = [];
    for (const resource of resources.filter((r) => r.type === kind.childType)) {
        const props = resource.props;
        const childName = firstDefined(textAt(props, kind.childNameProperty), textAt(props, "name"));
        const child: Child = { name: typeof childName === "string" ? childName : resource.name, props, resource };
        // During preview the parent's name is often an unknown output of the parent; the engine still
        // records which resource it came from.
        const source = (resource.propertyDependencies?.[kind.childParentProperty] ?? []).find((d) => byUrn.has(d.urn));
        if (source) {
            (byUrn.get(source.urn) as Group).children.push(child);
            continue;
        }
        const parentName = firstDefined(text(get(props, kind.childParentProperty)), fromId(textAt(props, "id"), kind.idSegment));
        if (typeof parentName !== "string") {
            unplaced.push(child);
            continue;
        }
        const resourceGroup = resourceGroupOf(props);
        let group = groups.find((g) => sameGroupName(g, parentName, resourceGroup));
        if (!group) {
            // A table or NSG owned elsewhere: its children in this stack still form a group.
            group = { displayName: parentName, children: [], incomplete: false, name: parentName.toLowerCase(), resourceGroup };
            groups.push(group);
        }
        group.children.push(child);
    }
    return { groups, unplaced };
}
