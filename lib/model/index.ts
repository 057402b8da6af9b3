export * from "./mode";
export * from "./processor";
export * from "./workflow";
export * from "./invocation";
export * from "./execution-record";
export * from "./limits";
export * from "./validate";
