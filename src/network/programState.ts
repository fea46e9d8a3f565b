// What a program builds up in module state as its components register: claims on route tables, NSGs, rule collection
// groups and VMs, the cached reads, the egress the program adds, the subnet checks done, and the scale sets and
// scale-set extensions the program defines. One Pulumi program runs once per process, so nothing clears it there;
// tools and tests that run several programs in one process call this.
import { forgetReads } from "./azureReads";
import { forgetEgressClaims } from "./ownership";
import { forgetProgramEgress } from "./programEgress";
import { forgetSubnetChecks } from "./subnetOutbound";
import { forgetProgramScaleSets } from "../vm/programScaleSets";

/** Forgets everything an earlier program in this process claimed, read, added or checked. */
export function forgetProgramState(): void {
    forgetEgressClaims();
    forgetReads();
    forgetProgramEgress();
    forgetSubnetChecks();
    forgetProgramScaleSets();
}
