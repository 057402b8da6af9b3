import { join, resolve } from "node:path";
import { NotFoundError } from "../../errors";
import { ExecutionRecord } from "../../model/execution-record";
import { assertSafeExecutionId, FileRecordStore } from "../file-record-store";

/** Where the records of a workdir live: `<workdir>/executions/<id>/record.json`. */
export function localRecordStore(workdir: string): FileRecordStore {
  return new FileRecordStore(join(resolve(workdir), "executions"));
}

export interface LoadRecordOptions {
  /** Local workdir holding `executions/<id>/record.json` (what `run --workdir` wrote). */
  workdir: string;
}

/** A local execution's record by id; NotFoundError naming where it looked when there is none. */
export async function loadExecutionRecord(executionId: string, options: LoadRecordOptions): Promise<ExecutionRecord> {
  assertSafeExecutionId(executionId);
  const record = await localRecordStore(options.workdir).get(executionId);
  if (!record) throw new NotFoundError(`no local execution "${executionId}" under ${resolve(options.workdir, "executions")}`);
  return record;
}

export interface ListLocalExecutionsOptions {
  workdir: string;
  status?: string;
  workflow?: string;
  /** @default every record */
  limit?: number;
}

/** The records of a workdir, newest first, filtered by status and workflow name. */
export async function listLocalExecutions(options: ListLocalExecutionsOptions): Promise<ExecutionRecord[]> {
  const all = (await localRecordStore(options.workdir).list()).reverse();
  const matching = all.filter((r) => (!options.status || r.status === options.status) && (!options.workflow || r.snapshot.workflow.name === options.workflow));
  return options.limit === undefined ? matching : matching.slice(0, options.limit);
}
