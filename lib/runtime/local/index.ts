export { startLocalExecution, runLocalWorkflow, localRecordStore } from "./runner";
export { newExecutionId } from "../execution-id";
export type { LocalRunOptions, LocalExecution, LocalRunEvent, CompiledBundle, LocalCompiler } from "./runner";
export { FileRecordStore } from "../file-record-store";
export { NOMINAL_PRICES, buildCostReport } from "./cost";
export type { CostReport, CostLine } from "./cost";
