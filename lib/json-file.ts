import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ValidationError } from "./errors";

/**
 * Reads a JSON file the user named, turning a missing file or bad JSON into a ValidationError whose
 * path is `label` (the option or argument that named it, e.g. `--node`), so the message says which.
 */
export function readJsonFile(path: string, label: string, cwd: string): unknown {
  const full = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (err) {
    throw new ValidationError([{ code: "file_unreadable", path: [label], message: `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }], { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError([{ code: "invalid_json", path: [label], message: `${full} is not valid JSON: ${(err as Error).message}` }], { cause: err });
  }
}
