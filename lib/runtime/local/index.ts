export { startLocalExecution, runLocalWorkflow, cancelReason } from "./runner";
export { localRecordStore, loadExecutionRecord, listLocalExecutions } from "./records";
export type { LoadRecordOptions, ListLocalExecutionsOptions } from "./records";
export { cancelLocalExecution } from "./cancel";
export type { CancelLocalOptions } from "./cancel";
export { localCompiler } from "./compile-local";
export { newExecutionId } from "../execution-id";
export type { LocalRunOptions, LocalExecution, LocalRunEvent, CompiledBundle, LocalCompiler } from "./runner";
export { FileRecordStore } from "../file-record-store";
