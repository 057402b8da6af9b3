import { ExecutionSnapshot } from "../model/execution-record";
import { ResolvedPlan } from "./resolve";

/** The immutable part of an execution record: what was asked for, how it resolved, and which machine ran it. */
export function executionSnapshot(plan: ResolvedPlan, definitionHash: string): ExecutionSnapshot {
  return {
    workflow: plan.workflow,
    processors: plan.registrations,
    invocation: plan.invocation,
    mode: plan.mode,
    resolved: plan.processors.map((p) => ({ id: p.id, uuid: p.uuid, image: p.image, computeType: p.computeType, cpu: p.cpu, memory: p.memory, ephemeralStorage: p.ephemeralStorage, gpu: p.gpu, hash: p.hash })),
    definitionHash,
  };
}
