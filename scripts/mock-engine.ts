// The recording mock engine ships with the command (src/cli/mock-engine.ts); tests and tools keep this path.
export * from "../src/cli/mock-engine";
