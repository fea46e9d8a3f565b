// The ARM stand-in for bench/fleet.js, in a process of its own so that its work is not in the fleet's figures.
// Prints one JSON line { url, ca } once listening; exits when its standard input closes.
"use strict";
const path = require("path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { startStandIn } = require("../test/fleet/arm-standin");
const { largeFleet } = require("../test/fleet/mock-fleet");

const count = Number(process.argv[2] ?? 1000);
startStandIn(largeFleet(count)).then((standIn) => {
    process.stdout.write(`${JSON.stringify({ url: standIn.url, ca: standIn.ca })}\n`);
    process.stdin.resume();
    process.stdin.on("end", () => standIn.close().then(() => process.exit(0)));
});
