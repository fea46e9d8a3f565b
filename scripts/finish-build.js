// Copies the guest script next to the compiled renderer, then checks the built package exposes its whole public surface.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");

function exportsTarget(subpath) {
    return require(path.join(root, "package.json")).exports[subpath].default;
}
fs.copyFileSync(path.join(root, "src", "guest", "activate.ps1"), path.join(root, "dist", "guest", "activate.ps1"));

// Through package.json "main", as `require("azure-kms-activation")` resolves it.
const pkg = require(root);
const surface = [
    "KmsEgressRules", "KmsNetwork", "KmsActivation", "KmsWindowsVm",
    "AzureCloud", "KmsHostForm", "ActivationMechanism", "ExplicitOutbound",
    "renderActivationScript", "kmsEndpoint", "kmsClientKeyForSku",
];
const missing = surface.filter((name) => pkg[name] === undefined);
if (missing.length > 0) {
    console.error(`dist/index.js does not export: ${missing.join(", ")}`);
    process.exit(1);
}
if (!fs.existsSync(path.join(root, "dist", "index.d.ts"))) {
    console.error("dist/index.d.ts is missing");
    process.exit(1);
}
// The policy subpath (azure-kms-activation/policy), as package.json "exports" maps it.
const policy = require(path.join(root, exportsTarget("./policy")));
const policyNames = Array.isArray(policy.kmsActivationPolicies) ? policy.kmsActivationPolicies.map((p) => p.name) : [];
const expectedPolicies = "kms-reachability,kms-reachability-unverified,kms-subnet-reachability,kms-windows-vm-activation";
if (policyNames.join(",") !== expectedPolicies) {
    console.error(`dist/policy does not export kmsActivationPolicies ${expectedPolicies.split(",").join(", ")}`);
    process.exit(1);
}
// The engine subpath (azure-kms-activation/reachability).
const reachability = require(path.join(root, exportsTarget("./reachability")));
if (typeof reachability.decideReachability !== "function" || typeof reachability.pathFactsFromAzureCli !== "function") {
    console.error("dist/reachability does not export decideReachability and pathFactsFromAzureCli");
    process.exit(1);
}
// The command (package.json "bin"): runnable by node, as npm links it into node_modules/.bin.
const bin = path.join(root, require(path.join(root, "package.json")).bin["azure-kms-activation"]);
if (!fs.existsSync(bin) || !fs.readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")) {
    console.error(`${path.relative(root, bin)} is missing or has no #!/usr/bin/env node line`);
    process.exit(1);
}
const rendered = pkg.renderActivationScript({});
console.log(`dist: ${surface.length} public exports and ${policy.kmsActivationPolicies.length} policies present, declarations emitted, guest script ${rendered.script.length} characters, command ${path.relative(root, bin)}`);
