import { join, resolve } from "node:path";

/**
 * Where a local run keeps things under its workdir. `efs/` is laid out exactly like the node's EFS
 * (`{computeNodeId}/input/{id}`, `{computeNodeId}/workdir/{id}/{hash}`), so the compiled machine's
 * paths are the real ones with a different mount point.
 */
export class LocalLayout {
  readonly workdir: string;
  constructor(workdir: string, readonly computeNodeId: string) {
    this.workdir = resolve(workdir);
  }
  /** Stands in for `/mnt/efs`. */
  get efsRoot(): string {
    return join(this.workdir, "efs");
  }
  get executionsDir(): string {
    return join(this.workdir, "executions");
  }
  executionDir(executionId: string): string {
    return join(this.executionsDir, executionId);
  }
  logsDir(executionId: string): string {
    return join(this.executionDir(executionId), "logs");
  }
  /** Per-execution token files live apart from records so a record directory never holds a secret. */
  get secretsDir(): string {
    return join(this.workdir, "secrets");
  }
  archiveDir(workflowInstanceId: string): string {
    return join(this.workdir, "archive", workflowInstanceId);
  }
  inputDir(workflowInstanceId: string): string {
    return join(this.efsRoot, this.computeNodeId, "input", workflowInstanceId);
  }
  instanceWorkdir(workflowInstanceId: string): string {
    return join(this.efsRoot, this.computeNodeId, "workdir", workflowInstanceId);
  }
  outputDir(workflowInstanceId: string, hash: string): string {
    return join(this.instanceWorkdir(workflowInstanceId), hash);
  }
}
