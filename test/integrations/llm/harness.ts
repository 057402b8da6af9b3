import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { LocalGovernor, StartLocalGovernorOptions, startLocalGovernor } from "../../../lib/integrations/llm/local";
import { GovernorLogEntry } from "../../../lib/integrations/llm/local";
import { BedrockStandIn, startBedrockStandIn } from "./bedrock-stand-in";

export const HAIKU_PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
export const SONNET_PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/** A clock tests move by hand. */
export class TestClock {
  constructor(public current = new Date("2026-12-02T10:00:00Z")) {}
  now = () => new Date(this.current.getTime());
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface Harness {
  bedrock: BedrockStandIn;
  governor: LocalGovernor;
  clock: TestClock;
  logs: GovernorLogEntry[];
  dir: string;
  /** An official Anthropic SDK client pointed at the governor, charging `executionId`. */
  client(options?: { executionId?: string; processorId?: string; userId?: string }): Anthropic;
  close(): Promise<void>;
}

/**
 * A stand-in Bedrock at the network boundary (the Bedrock SDK finds it through
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME, as in production configuration), and a local governor in front
 * of it with a file store in a fresh directory, trusting the execution headers as `llm serve` does.
 */
export async function startHarness(config: StartLocalGovernorOptions["config"], options: Partial<StartLocalGovernorOptions> = {}): Promise<Harness> {
  const bedrock = await startBedrockStandIn();
  const saved = { endpoint: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.url;
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  const clock = new TestClock();
  const logs: GovernorLogEntry[] = [];
  const dir = mkdtempSync(join(tmpdir(), "cn-llm-"));
  const governor = await startLocalGovernor({ config, region: "us-east-1", usage: { dir: join(dir, "usage") }, trustHeaders: true, now: clock.now, log: (e) => logs.push(e), ...options });
  return {
    bedrock,
    governor,
    clock,
    logs,
    dir,
    client: ({ executionId = "wi-test-1", processorId, userId } = {}) =>
      new Anthropic({
        baseURL: governor.url,
        apiKey: "unused-locally",
        maxRetries: 0,
        defaultHeaders: { "x-execution-id": executionId, ...(processorId ? { "x-processor-id": processorId } : {}), ...(userId ? { "x-user-id": userId } : {}) },
      }),
    async close() {
      await governor.close();
      await bedrock.close();
      if (saved.endpoint === undefined) delete process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
      else process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = saved.endpoint;
      if (saved.key === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    },
  };
}
