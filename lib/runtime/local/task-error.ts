/**
 * An error as a Task state sees it. aws-local-stepfunctions matches Retry/Catch on `name` and puts
 * `message` in the Cause, so name and message mimic what the AWS service integration would raise.
 */
export class TaskError extends Error {
  constructor(name: string, cause: string | object) {
    super(typeof cause === "string" ? cause : JSON.stringify(cause));
    this.name = name;
  }
}

/** The Cause of a failed `lambda:invoke`, as the Lambda runtime reports a thrown error. */
export function lambdaError(err: unknown): TaskError {
  const e = err instanceof Error ? err : new Error(String(err));
  return new TaskError(e.name || "Error", { errorType: e.name || "Error", errorMessage: e.message });
}
