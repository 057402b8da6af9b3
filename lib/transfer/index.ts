export * from "./errors";
export * from "./merge-inputs";
export * from "./download";
export * from "./cleanup";
export * from "./handler";
