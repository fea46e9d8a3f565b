// The CIDR arithmetic lives with the reachability engine; the policies read it from there.
export { parseIpv4, parseIpv4Prefix, prefixContains, prefixesOverlap, samePrefix } from "../reachability/cidr";
export type { Ipv4Prefix } from "../reachability/cidr";
