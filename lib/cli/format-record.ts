import type { ExecutionRecord } from "../model/execution-record";

const seconds = (from?: string, to?: string) => (from && to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)}s` : "");

/** A human summary of an execution record: header, error, then one row per processor in plan order. */
export function formatRecord(record: ExecutionRecord): string {
  const lines = [
    `execution ${record.executionId} (${record.backend}) ${record.status}: workflow "${record.snapshot.workflow.name}"` +
      (record.startedAt ? `, started ${record.startedAt}` : "") +
      (record.finishedAt ? `, took ${seconds(record.startedAt, record.finishedAt)}` : ""),
  ];
  if (record.error) lines.push(`error: ${record.error.error}${record.error.cause ? `: ${record.error.cause}` : ""}`);
  const rows = record.snapshot.resolved.map((p) => {
    const s = record.processors[p.id] ?? { status: "NOT_STARTED" };
    return [p.id, s.status, s.exitCode === undefined ? "" : String(s.exitCode), seconds(s.startedAt, s.finishedAt), s.logFile ?? ""];
  });
  const header = ["PROCESSOR", "STATUS", "EXIT", "TIME", "LOG"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) => "  " + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  lines.push(fmt(header), ...rows.map(fmt));
  for (const [name, path] of Object.entries(record.artifacts ?? {})) lines.push(`${name}: ${path}`);
  return lines.join("\n") + "\n";
}
