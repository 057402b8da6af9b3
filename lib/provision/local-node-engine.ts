import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { NotFoundError } from "../errors";
import { systemClock } from "../clock";
import { EngineEventBody } from "./events";
import { NodeSpec, PreviewResult, StackChangeResult, StackEngine, StackOperationOptions, StackOutputs } from "./stack-engine";

export interface LocalNodeEngineOptions {
  /** Each node is the directory `<root>/<nodeId>`; the local workflow runtime uses the same root. */
  root: string;
  /** @default systemClock */
  now?: () => Date;
}

const NODE_FILE = "node.json";
const RESOURCE_TYPE = "compute-node:local:Node";

interface LocalNodeFile {
  spec: NodeSpec;
  createdAt: string;
  updatedAt: string;
}

/**
 * A stack engine without Pulumi or AWS for `serve --local`: a node is a directory under the data
 * dir holding `node.json` (its spec), and its outputs point the local runner at that directory.
 * One resource per node, so previews and summaries read like the real engine's.
 */
export class LocalNodeEngine implements StackEngine {
  readonly kind = "local" as const;
  private readonly now: () => Date;

  constructor(private readonly options: LocalNodeEngineOptions) {
    this.now = options.now ?? systemClock;
  }

  async ensureAvailable(): Promise<void> {
    await mkdir(this.options.root, { recursive: true });
  }

  async up(node: NodeSpec, options: StackOperationOptions = {}): Promise<StackChangeResult> {
    options.signal?.throwIfAborted();
    const current = await this.read(node.id);
    const op = stepOf(current?.spec, node);
    const urn = urnOf(node.id);
    this.emit(options, { type: "resource-pre", urn, resourceType: RESOURCE_TYPE, op, ...(op === "update" ? { diffs: changedKeys(current!.spec, node) } : {}) });
    const now = this.now().toISOString();
    await mkdir(this.dir(node.id), { recursive: true });
    await atomicWrite(join(this.dir(node.id), NODE_FILE), { spec: node, createdAt: current?.createdAt ?? now, updatedAt: now } satisfies LocalNodeFile);
    this.emit(options, { type: "resource-outputs", urn, resourceType: RESOURCE_TYPE, op });
    const resourceChanges = { [op]: 1 };
    this.emit(options, { type: "summary", resourceChanges });
    return { resourceChanges, outputs: outputsOf(node) };
  }

  async preview(node: NodeSpec, options: StackOperationOptions = {}): Promise<PreviewResult> {
    const current = await this.read(node.id);
    const op = stepOf(current?.spec, node);
    const diffs = op === "update" ? changedKeys(current!.spec, node) : undefined;
    this.emit(options, { type: "resource-pre", urn: urnOf(node.id), resourceType: RESOURCE_TYPE, op, ...(diffs ? { diffs } : {}) });
    return { resourceChanges: { [op]: 1 }, steps: [{ urn: urnOf(node.id), resourceType: RESOURCE_TYPE, op, ...(diffs ? { diffs } : {}) }] };
  }

  async refresh(node: NodeSpec): Promise<StackChangeResult> {
    const current = await this.require(node.id);
    return { resourceChanges: { same: 1 }, outputs: outputsOf(current.spec) };
  }

  async destroy(node: NodeSpec, options: StackOperationOptions = {}): Promise<{ resourceChanges: Record<string, number> }> {
    await this.require(node.id);
    const urn = urnOf(node.id);
    this.emit(options, { type: "resource-pre", urn, resourceType: RESOURCE_TYPE, op: "delete" });
    // Executions' records, logs and outputs live in the node's directory: they go with it.
    await rm(this.dir(node.id), { recursive: true, force: true });
    this.emit(options, { type: "resource-outputs", urn, resourceType: RESOURCE_TYPE, op: "delete" });
    const resourceChanges = { delete: 1 };
    this.emit(options, { type: "summary", resourceChanges });
    return { resourceChanges };
  }

  /** Nothing to release: a local node takes no lock an interrupted update could leave. */
  async cancel(): Promise<void> {}

  async outputs(node: NodeSpec): Promise<StackOutputs> {
    return outputsOf((await this.require(node.id)).spec);
  }

  private async require(id: string): Promise<LocalNodeFile> {
    const current = await this.read(id);
    if (!current) throw new NotFoundError(`local compute node "${id}" does not exist (no ${NODE_FILE} under its directory)`);
    return current;
  }

  private async read(id: string): Promise<LocalNodeFile | undefined> {
    const text = await readFile(join(this.dir(id), NODE_FILE), "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    return text === undefined ? undefined : (JSON.parse(text) as LocalNodeFile);
  }

  private dir(id: string) {
    return join(this.options.root, id);
  }

  private emit(options: StackOperationOptions, body: EngineEventBody) {
    options.onEvent?.({ ...body, timestamp: this.now().toISOString() });
  }
}

/**
 * What the local runtime reads: the node's id, mode and region, and that it runs locally. The
 * directory is named relative to the data dir (`runtime/<id>`): outputs are shown by the API.
 */
function outputsOf(spec: NodeSpec): StackOutputs {
  const plain = (value: unknown) => ({ value, secret: false });
  return {
    computeNodeId: plain(spec.id),
    mode: plain(spec.mode),
    region: plain(spec.region),
    runtime: plain("local"),
    workdir: plain(`runtime/${spec.id}`),
  };
}

const urnOf = (id: string) => `urn:pulumi:${id}::compute-node::${RESOURCE_TYPE}::${id}`;

function stepOf(current: NodeSpec | undefined, next: NodeSpec): string {
  if (!current) return "create";
  return changedKeys(current, next).length ? "update" : "same";
}

function changedKeys(current: NodeSpec, next: NodeSpec): string[] {
  const keys: string[] = [];
  if (current.mode !== next.mode) keys.push("mode");
  if (current.region !== next.region) keys.push("region");
  const names = new Set([...Object.keys(current.options), ...Object.keys(next.options)]);
  for (const name of [...names].sort()) if (JSON.stringify(current.options[name]) !== JSON.stringify(next.options[name])) keys.push(`options.${name}`);
  return keys;
}

async function atomicWrite(path: string, value: unknown) {
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + "\n");
  await rename(temp, path);
}
