// The offline plan ships with the command (src/cli/plan.ts, `azure-kms-activation plan`); tools keep this path.
export * from "../src/cli/plan";
