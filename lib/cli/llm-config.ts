import { readJsonFile } from "../json-file";
import type { CliIo } from "./io";

/**
 * The LLM configuration in a file named by a CLI option (`llm serve --config`, `run --llm-config`),
 * or the defaults. Shared by commands, so it lives beside them, not in one command's module.
 */
export async function loadLlmConfig(file: string | undefined, io: CliIo, option = "--config") {
  const { parseLlmConfig } = await import("../node/config");
  return parseLlmConfig(file ? readJsonFile(file, option, io.cwd) : {}, [option]);
}
