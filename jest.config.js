/** @type {import('jest').Config} */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testTimeout: 60000,
    collectCoverageFrom: ["src/**/*.ts"],
    coverageReporters: ["text-summary", "text", "lcov"],
    coverageThreshold: { global: { statements: 90 } },
    transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
};
