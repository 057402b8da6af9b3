import { createHash } from "node:crypto";
import { ValidationError, ValidationIssue } from "../errors";
import { ComputeType, DeploymentMode } from "../model/mode";
import { Invocation } from "../model/invocation";
import { ProcessorRegistration, ProcessorRetry } from "../model/processor";
import { Workflow } from "../model/workflow";
import { dagIssues, parseInvocation, parseMode, parseProcessors, parseWorkflow } from "../model/validate";
import { ECS_DEFAULTS, ECS_EPHEMERAL_STORAGE, LAMBDA_DEFAULTS, LAMBDA_LIMITS, fargateSizeProblem } from "../model/limits";

/** One processor with every default and override applied: what compile and the runtimes consume. */
export interface ResolvedProcessor {
  id: string;
  uuid: string;
  sourceUrl: string;
  /** sourceUrl with the invocation's pinned version applied. */
  image: string;
  computeType: ComputeType;
  /** vCPU (ECS). */
  cpu: number;
  /** MiB. */
  memory: number;
  /** GiB (ECS). */
  ephemeralStorage: number;
  /** Seconds (Lambda). */
  timeout: number;
  gpu: number;
  /** Direct dependencies, duplicates removed, in the order the workflow gave them. */
  dependsOn: string[];
  /** Direct dependants, in plan order. */
  dependants: string[];
  /** Content hash of the processor id: names its OUTPUT_DIR (`workdir/{id}/{hash}`) and merge dir (`m_{hash}`). */
  hash: string;
  commandArguments: string[];
  localCommand?: string[];
  retry?: ProcessorRetry;
  registration: ProcessorRegistration;
}

export interface ResolvedPlan {
  workflow: Workflow;
  mode: DeploymentMode;
  invocation: Invocation;
  /** Node the plan targets, from the invocation; compile falls back to `local`. */
  computeNodeId?: string;
  /** Topological order; ties keep the workflow's order, so the plan is deterministic. */
  processors: ResolvedProcessor[];
  /** The registrations that were given (or defaulted), for the execution record. */
  registrations: ProcessorRegistration[];
}

export interface ResolvePlanOptions {
  /** Processor registrations; absent means every processor defaults to `{computeTypes: ["ecs"]}`. */
  processors?: unknown;
  /** Workflow invocation (processorConfigs, computeTypeOverrides…). */
  invocation?: unknown;
  /** @default "basic" */
  mode?: unknown;
}

/**
 * Validates a workflow with its registrations, invocation and mode, and applies the seed's rules
 * (first computeTypes entry by default, invocation overrides win, resource defaults).
 * Throws one ValidationError listing every problem; nothing is resolved partially.
 */
export function resolvePlan(workflowInput: unknown, options: ResolvePlanOptions = {}): ResolvedPlan {
  const issues: ValidationIssue[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (err instanceof ValidationError) {
        issues.push(...err.issues);
        return undefined;
      }
      throw err;
    }
  };
  const workflow = attempt(() => parseWorkflow(workflowInput));
  const registrationsGiven = options.processors !== undefined;
  const registrations = registrationsGiven ? attempt(() => parseProcessors(options.processors)) : undefined;
  const invocation = attempt(() => parseInvocation(options.invocation));
  const mode = attempt(() => parseMode(options.mode));
  if (!workflow || !invocation || !mode || (registrationsGiven && !registrations)) throw new ValidationError(issues);

  issues.push(...dagIssues(workflow));
  const effectiveRegistrations = registrations ?? defaultRegistrations(workflow);
  const lookup = registrationLookup(effectiveRegistrations);
  const ids = new Set(workflow.processors.map((p) => p.id));

  const registrationOf = new Map<string, ProcessorRegistration>();
  workflow.processors.forEach((p, i) => {
    const found = lookup(p.sourceUrl);
    if (found.registration) registrationOf.set(p.id, found.registration);
    else
      issues.push({
        code: "unresolved_source_url",
        path: ["workflow", "processors", i, "sourceUrl"],
        processorId: p.id,
        message: found.ambiguous
          ? `sourceUrl "${p.sourceUrl}" matches several registrations by repository (${found.ambiguous.join(", ")}): give the exact sourceUrl`
          : `sourceUrl "${p.sourceUrl}" matches no processor registration (registered: ${effectiveRegistrations.map((r) => r.sourceUrl).join(", ") || "none"})`,
      });
  });

  const configs = invocation.workflowInstanceConfiguration.processorConfigs;
  const configOf = new Map<string, (typeof configs)[number]>();
  configs.forEach((c, i) => {
    const path = ["invocation", "workflowInstanceConfiguration", "processorConfigs", i];
    if (!ids.has(c.nodeId)) issues.push({ code: "unknown_processor_config", path: [...path, "nodeId"], message: `nodeId "${c.nodeId}" is not a processor in this workflow` });
    else if (configOf.has(c.nodeId)) issues.push({ code: "duplicate_processor_config", path: [...path, "nodeId"], processorId: c.nodeId, message: `a second processorConfigs entry for "${c.nodeId}"` });
    else configOf.set(c.nodeId, c);
  });

  const uuidOf = (id: string) => {
    const reg = registrationOf.get(id);
    return reg ? reg.uuid ?? deriveUuid(reg.sourceUrl) : undefined;
  };
  const overrides = invocation.params.computeTypeOverrides;
  const uuids = new Set(workflow.processors.map((p) => uuidOf(p.id)).filter(Boolean));
  for (const uuid of Object.keys(overrides).sort()) {
    if (!uuids.has(uuid))
      issues.push({ code: "unknown_override_uuid", path: ["invocation", "params", "computeTypeOverrides", uuid], message: `no processor in this workflow has uuid "${uuid}"` });
  }

  // Resource problems belong to a registration, so they point into the processors file
  // (`processors[3].cpu`); without one, the defaults cannot be wrong.
  const registrationIndex = new Map(effectiveRegistrations.map((r, j) => [r, j]));
  const registrationPath = (registration: ProcessorRegistration, i: number, field: string): (string | number)[] =>
    registrationsGiven ? ["processors", registrationIndex.get(registration)!, field] : ["workflow", "processors", i];

  const resolved: ResolvedProcessor[] = [];
  workflow.processors.forEach((p, i) => {
    const registration = registrationOf.get(p.id);
    if (!registration) return;
    const uuid = uuidOf(p.id)!;
    const supported = registration.computeTypes;
    const config = configOf.get(p.id);
    let computeType: ComputeType = supported[0];
    let chosenAt = registrationPath(registration, i, "computeTypes");
    if (config?.executionTarget) {
      const path = ["invocation", "workflowInstanceConfiguration", "processorConfigs", configs.indexOf(config), "executionTarget"];
      if (!supported.includes(config.executionTarget))
        issues.push({
          code: "unsupported_execution_target",
          path,
          processorId: p.id,
          message: `executionTarget "${config.executionTarget}" is not in the processor's computeTypes [${supported.join(", ")}]`,
        });
      else {
        computeType = config.executionTarget;
        chosenAt = path;
      }
    }
    const override = overrides[uuid];
    if (override) {
      const path = ["invocation", "params", "computeTypeOverrides", uuid];
      if (!supported.includes(override))
        issues.push({
          code: "unsupported_compute_type_override",
          path,
          processorId: p.id,
          message: `override "${override}" is not in the processor's computeTypes [${supported.join(", ")}]`,
        });
      else {
        computeType = override;
        chosenAt = path;
      }
    }
    if (computeType === "lambda" && mode === "compliant")
      issues.push({
        code: "lambda_in_compliant_mode",
        path: chosenAt,
        processorId: p.id,
        message: `resolves to a Lambda processor, which compliant mode does not allow (shared EFS cannot be isolated per run): ${
          !supported.includes("ecs") ? "register an image that supports ecs" : chosenAt[0] === "invocation" ? 'choose "ecs" here' : 'put "ecs" first in computeTypes or set its executionTarget to "ecs"'
        }`,
      });

    const cpu = registration.cpu ?? ECS_DEFAULTS.cpu;
    const memory = registration.memory ?? (computeType === "lambda" ? LAMBDA_DEFAULTS.memory : ECS_DEFAULTS.memory);
    const ephemeralStorage = registration.ephemeralStorage ?? ECS_DEFAULTS.ephemeralStorage;
    const timeout = registration.timeout ?? LAMBDA_DEFAULTS.timeout;
    const gpu = registration.gpu ?? 0;
    const resourceIssue = (field: string, message: string) => issues.push({ code: "invalid_resources", path: registrationPath(registration, i, field), processorId: p.id, message });
    if (computeType === "ecs") {
      const problem = fargateSizeProblem(cpu, memory);
      if (problem?.field === "cpu") resourceIssue("cpu", problem.message);
      else if (problem && registration.memory === undefined)
        resourceIssue("memory", `memory defaults to ${memory} MiB, which is not valid with ${cpu} vCPU on Fargate (allowed: ${problem.allowed}): set memory`);
      else if (problem) resourceIssue("memory", registration.cpu === undefined ? `${problem.message} (cpu defaults to ${cpu} vCPU: set cpu or memory)` : problem.message);
      if (ephemeralStorage < ECS_EPHEMERAL_STORAGE.min || ephemeralStorage > ECS_EPHEMERAL_STORAGE.max)
        resourceIssue("ephemeralStorage", `ephemeralStorage ${ephemeralStorage} GiB is outside Fargate's ${ECS_EPHEMERAL_STORAGE.min}–${ECS_EPHEMERAL_STORAGE.max} GiB`);
    } else {
      if (memory < LAMBDA_LIMITS.minMemory || memory > LAMBDA_LIMITS.maxMemory)
        resourceIssue("memory", `memory ${memory} MiB is outside Lambda's ${LAMBDA_LIMITS.minMemory}–${LAMBDA_LIMITS.maxMemory} MiB`);
      if (timeout > LAMBDA_LIMITS.maxTimeout) resourceIssue("timeout", `timeout ${timeout} s is above Lambda's ${LAMBDA_LIMITS.maxTimeout} s maximum`);
      if (gpu > 0) resourceIssue("gpu", `gpu ${gpu} requested, but Lambda has no GPUs: use ecs`);
    }

    resolved.push({
      id: p.id,
      uuid,
      sourceUrl: registration.sourceUrl,
      image: pinVersion(registration.sourceUrl, config?.version),
      computeType,
      cpu,
      memory,
      ephemeralStorage,
      timeout,
      gpu,
      dependsOn: [...new Set(p.dependsOn)],
      dependants: [],
      hash: "",
      commandArguments: registration.commandArguments ?? [],
      localCommand: registration.localCommand,
      retry: registration.retry,
      registration,
    });
  });

  if (issues.length) throw new ValidationError(mergeSharedIssues(issues));
  const ordered = topologicalOrder(resolved);
  assignHashes(ordered);
  const byId = new Map(ordered.map((p) => [p.id, p]));
  for (const p of ordered) for (const d of p.dependsOn) byId.get(d)!.dependants.push(p.id);
  return {
    workflow,
    mode,
    invocation,
    computeNodeId: invocation.workflowInstanceConfiguration.computeNodeId,
    processors: ordered,
    registrations: effectiveRegistrations,
  };
}

/**
 * One registration can serve several workflow processors: its problem is reported once, at its
 * path in the processors file, naming every processor it affects.
 */
function mergeSharedIssues(issues: ValidationIssue[]): ValidationIssue[] {
  const groups = new Map<string, ValidationIssue[]>();
  for (const issue of issues) {
    const key = JSON.stringify([issue.code, issue.path, issue.message]);
    const group = groups.get(key);
    if (group) group.push(issue);
    else groups.set(key, [issue]);
  }
  return [...groups.values()].map(([first, ...rest]) => {
    const others = [...new Set(rest.map((i) => i.processorId).filter((id): id is string => id !== undefined && id !== first.processorId))];
    if (!others.length) return first;
    const named = others.slice(0, 5).map((id) => `"${id}"`).join(", ") + (others.length > 5 ? ` and ${others.length - 5} more` : "");
    return { ...first, message: `${first.message} (also affects ${named})` };
  });
}

function defaultRegistrations(workflow: Workflow): ProcessorRegistration[] {
  const urls = [...new Set(workflow.processors.map((p) => p.sourceUrl))];
  return urls.map((sourceUrl) => ({ sourceUrl, computeTypes: ["ecs"] }));
}

/** Exact sourceUrl match first; else the one registration of the same repository (tag or digest ignored). */
function registrationLookup(registrations: ProcessorRegistration[]) {
  const exact = new Map<string, ProcessorRegistration>();
  const byRepo = new Map<string, ProcessorRegistration[]>();
  for (const r of registrations) {
    if (!exact.has(r.sourceUrl)) exact.set(r.sourceUrl, r);
    const repo = imageRepository(r.sourceUrl);
    byRepo.set(repo, [...(byRepo.get(repo) ?? []), r]);
  }
  return (sourceUrl: string): { registration?: ProcessorRegistration; ambiguous?: string[] } => {
    const hit = exact.get(sourceUrl);
    if (hit) return { registration: hit };
    const candidates = byRepo.get(imageRepository(sourceUrl)) ?? [];
    if (candidates.length === 1) return { registration: candidates[0] };
    if (candidates.length > 1) return { ambiguous: candidates.map((c) => c.sourceUrl) };
    return {};
  };
}

/** `registry/repo:tag@digest` → `registry/repo`; a port in the registry host is not a tag. */
export function imageRepository(image: string): string {
  const noDigest = image.split("@")[0];
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function pinVersion(sourceUrl: string, version: string | undefined): string {
  if (!version || version === "latest") return sourceUrl;
  if (version.startsWith("sha256:")) return `${imageRepository(sourceUrl)}@${version}`;
  return `${imageRepository(sourceUrl)}:${version}`;
}

/** A name-based (version 5 style) UUID, so an unregistered uuid is stable across runs and machines. */
export function deriveUuid(name: string): string {
  const h = createHash("sha1").update("compute-node:processor:").update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Kahn's algorithm; among ready processors the earliest in the workflow goes first. */
function topologicalOrder(processors: ResolvedProcessor[]): ResolvedProcessor[] {
  const index = new Map(processors.map((p, i) => [p.id, i]));
  const remaining = processors.map((p) => p.dependsOn.length);
  const children: number[][] = processors.map(() => []);
  processors.forEach((p, i) => p.dependsOn.forEach((d) => children[index.get(d)!].push(i)));
  const ready = new MinHeap();
  remaining.forEach((n, i) => n === 0 && ready.push(i));
  const out: ResolvedProcessor[] = [];
  while (ready.size) {
    const i = ready.pop();
    out.push(processors[i]);
    for (const c of children[i]) if (--remaining[c] === 0) ready.push(c);
  }
  return out;
}

/** 12 hex characters of sha256(id), lengthened for every processor whose prefix collides with another's. */
function assignHashes(processors: ResolvedProcessor[]) {
  const full = processors.map((p) => createHash("sha256").update(p.id).digest("hex"));
  for (let length = 12; length <= 64; length += 4) {
    const counts = new Map<string, number>();
    for (const h of full) counts.set(h.slice(0, length), (counts.get(h.slice(0, length)) ?? 0) + 1);
    if ([...counts.values()].every((n) => n === 1)) {
      processors.forEach((p, i) => (p.hash = full[i].slice(0, length)));
      return;
    }
  }
}

class MinHeap {
  private items: number[] = [];
  get size() {
    return this.items.length;
  }
  push(value: number) {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= a[i]) break;
      [a[parent], a[i]] = [a[i], a[parent]];
      i = parent;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
