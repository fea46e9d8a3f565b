// The examples and their offline runs ship with the command (src/cli/examples.ts); tests and tools keep this path.
export * from "../src/cli/examples";
