/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testTimeout: 60000,
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
