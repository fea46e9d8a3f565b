/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testTimeout: 60000,
    // Only the guest behaviour suite runs tests concurrently: most of a guest run is spent waiting on timeouts scaled
    // down (silent drops, back-off), so a dozen runs at once keep 2 cores busy (test/guest/behaviour.test.ts).
    maxConcurrency: 12,
    collectCoverageFrom: ["src/**/*.ts"],
    coverageReporters: ["text-summary", "text", "lcov"],
    coverageThreshold: { global: { statements: 90 } },
    // The package's own name (the examples import it as a consumer would) resolves to the sources under test.
    moduleNameMapper: {
        "^azure-kms-activation$": "<rootDir>/src",
        "^azure-kms-activation/policy$": "<rootDir>/src/policy",
        "^azure-kms-activation/reachability$": "<rootDir>/src/reachability",
    },
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
