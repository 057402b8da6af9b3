import { ConflictError, NotFoundError } from "../errors";
import { ExecutionRecord } from "../model/execution-record";
import { resolvePlan } from "../plan/resolve";
import { ProvisionStore } from "./store";
import { NodeService } from "./node-service";
import { WorkflowRuntime } from "./workflow-runtime";
import { systemClock } from "../clock";

export interface StartWorkflowRequest {
  nodeId: string;
  workflowName: string;
  /** The workflow's processors and description; its name comes from the path. */
  workflow: { description?: string; processors: unknown[] };
  processors?: unknown;
  invocation?: object;
  inputDir?: string;
}

/** Starts workflows on a ready node and finds their records again. */
export class ExecutionService {
  constructor(
    private readonly options: { store: ProvisionStore; nodes: NodeService; runtime: WorkflowRuntime; now?: () => Date },
  ) {}

  async start(request: StartWorkflowRequest): Promise<{ executionId: string; nodeId: string; workflowName: string }> {
    const node = await this.options.nodes.get(request.nodeId);
    if (node.status !== "ready")
      throw new ConflictError(`compute node "${node.id}" is ${node.status}, not ready: wait for operation ${node.lastOperationId ?? "(none)"} to finish`, node.lastOperationId);
    const invocation = (request.invocation ?? {}) as Record<string, unknown>;
    const config = (invocation.workflowInstanceConfiguration ?? {}) as Record<string, unknown>;
    const plan = resolvePlan(
      { ...request.workflow, name: request.workflowName },
      {
        processors: request.processors,
        mode: node.mode,
        invocation: { ...invocation, workflowInstanceConfiguration: { ...config, computeNodeId: node.id } },
      },
    );
    const { executionId } = await this.options.runtime.startExecution({ node, plan, inputDir: request.inputDir });
    const createdAt = (this.options.now ?? systemClock)().toISOString();
    await this.options.store.putExecutionRef({ executionId, nodeId: node.id, workflowName: request.workflowName, createdAt });
    return { executionId, nodeId: node.id, workflowName: request.workflowName };
  }

  async get(executionId: string): Promise<ExecutionRecord> {
    const ref = await this.options.store.getExecutionRef(executionId);
    if (!ref) throw new NotFoundError(`no execution "${executionId}" was started through this service`);
    const node = await this.options.store.getNode(ref.nodeId);
    return this.options.runtime.getExecution(node, executionId);
  }
}
