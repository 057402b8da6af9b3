export { startLocalExecution, runLocalWorkflow } from "./runner";
export { localRecordStore, loadExecutionRecord } from "./records";
export type { LoadRecordOptions } from "./records";
export { localCompiler } from "./compile-local";
export { newExecutionId } from "../execution-id";
export type { LocalRunOptions, LocalExecution, LocalRunEvent, CompiledBundle, LocalCompiler } from "./runner";
export { FileRecordStore } from "../file-record-store";
