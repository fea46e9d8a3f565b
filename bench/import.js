// Import cost of one side, in a fresh process: `node bench/import.js <package|raw> <compiledPackageDir>`.
// Times the requires alone (Node's own start-up is the same for both sides); prints one JSON line.
"use strict";
const { performance } = require("perf_hooks");

const [side, packageDir] = process.argv.slice(2);
const start = performance.now();
if (side === "package") {
    require(packageDir);
} else {
    // What the package's entry pulls in from its dependencies, required directly.
    require("@pulumi/pulumi");
    require("@pulumi/azure-native/network");
    require("@pulumi/azure-native/compute");
}
const ms = performance.now() - start;
console.log(JSON.stringify({ side, ms, maxRssKb: process.resourceUsage().maxRSS }));
