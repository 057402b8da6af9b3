/** One entry of a {@link ValidationError}: data, not prose, so callers can render it as they like. */
export interface ValidationIssue {
  /** Stable machine-readable code, e.g. `unknown_dependency`. */
  code: string;
  /** Path of the offending field, e.g. `["processors", 2, "dependsOn", 0]`. */
  path: (string | number)[];
  /** The processor the issue is about, when there is one. */
  processorId?: string;
  /** The file `path` is inside, as the user named it, when the input came from one (the CLI's WORKFLOW, --processors, --invocation). */
  file?: string;
  message: string;
}

const BRAND = Symbol.for("compute-node.error");

/** Base of every error compute-node throws on purpose. `instanceof` fails across two copies of the library, so check with {@link isComputeNodeError}. */
export class ComputeNodeError extends Error {
  override name = "ComputeNodeError";
  readonly code: string;
  readonly [BRAND] = true;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isComputeNodeError(value: unknown): value is ComputeNodeError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The caller's input is wrong; every problem found is in `issues`. CLI exit 2, HTTP 400. */
export class ValidationError extends ComputeNodeError {
  override name = "ValidationError";
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    super("validation_failed", formatIssues(issues), options);
    this.issues = issues;
  }
}

/** The workflow is valid but cannot be compiled within Step Functions' limits or supported shapes. */
export class CompileError extends ComputeNodeError {
  override name = "CompileError";
  readonly processorIds: string[];
  constructor(code: string, message: string, processorIds: string[] = [], options?: { cause?: unknown }) {
    super(code, message, options);
    this.processorIds = processorIds;
  }
}

/** An AWS call failed; the SDK error is kept in `cause`. */
export class AwsRuntimeError extends ComputeNodeError {
  override name = "AwsRuntimeError";
}

/** The target is busy (a running operation or execution); `holderId` names what holds it. HTTP 409. */
export class ConflictError extends ComputeNodeError {
  override name = "ConflictError";
  readonly holderId?: string;
  constructor(message: string, holderId?: string, options?: { cause?: unknown }) {
    super("conflict", message, options);
    this.holderId = holderId;
  }
}

export class NotFoundError extends ComputeNodeError {
  override name = "NotFoundError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("not_found", message, options);
  }
}

/** A processor ran and failed (non-zero exit, crash, timeout). */
export class ProcessorFailedError extends ComputeNodeError {
  override name = "ProcessorFailedError";
  readonly processorId: string;
  readonly exitCode?: number;
  constructor(processorId: string, message: string, exitCode?: number, options?: { cause?: unknown }) {
    super("processor_failed", message, options);
    this.processorId = processorId;
    this.exitCode = exitCode;
  }
}

/** A required local tool or service is missing (Docker engine, Pulumi CLI). HTTP 503. */
export class UnavailableError extends ComputeNodeError {
  override name = "UnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("unavailable", message, options);
  }
}

/** Base of the data-transfer errors; `name` is what Step Functions sees as the Lambda's error type. */
export class TransferError extends ComputeNodeError {
  override name = "TransferError";
}

/**
 * Two upstream processors produced a file of the same name, so the merged INPUT_DIR cannot hold both.
 * Named `MergeCollision` (not the class name) because that is the error the compiled machine and
 * the contract (docs/asl-contract.md) match on.
 */
export class MergeCollisionError extends TransferError {
  override name = "MergeCollision";
  /** The processor whose merged INPUT_DIR was being built. */
  readonly processorId: string;
  readonly file: string;
  /** The two upstream processors that both produced `file`. */
  readonly processors: [string, string];
  constructor(processorId: string, file: string, processors: [string, string]) {
    super(
      "merge_collision",
      `cannot merge inputs of processor "${processorId}": "${processors[0]}" and "${processors[1]}" both produced "${file}"; ` +
        `prefix output file names with something unique to each processor`,
    );
    this.processorId = processorId;
    this.file = file;
    this.processors = processors;
  }
}

/** A data-transfer payload is malformed or points somewhere it must not; `field` names the payload field when one is at fault. */
export class TransferInputError extends TransferError {
  override name = "TransferInputError";
  readonly field?: string;
  constructor(message: string, options?: { cause?: unknown; field?: string; code?: string }) {
    super(options?.code ?? "invalid_transfer_input", message, options);
    if (options?.field !== undefined) this.field = options.field;
  }
}

/**
 * A data-transfer path is not where the execution it names keeps that directory: outside
 * `{efs}/{computeNodeId}/…/{workflowInstanceId}`, climbing with `..`, or through a symbolic link.
 * Nothing was touched.
 */
export class UnsafePathError extends TransferInputError {
  override name = "UnsafePath";
  override readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, { ...options, field, code: "unsafe_path" });
    this.field = field;
  }
}

/**
 * An entry to be merged (or copied as an input) is a symbolic link that leaves the execution's own
 * directories (its workdir and input dir), or does not resolve at all. Named `UnsafeSymlink`, the
 * error type Step Functions sees.
 */
export class UnsafeSymlinkError extends TransferError {
  override name = "UnsafeSymlink";
  /** The processor whose output holds the link; absent for an execution input. */
  readonly processorId?: string;
  /** The link, relative to the output (or input) directory it is in. */
  readonly file: string;
  constructor(message: string, details: { processorId?: string; file: string }) {
    super("unsafe_symlink", message);
    if (details.processorId !== undefined) this.processorId = details.processorId;
    this.file = details.file;
  }
}

/**
 * Writing a result failed: S3 refused an object (the S3 error's name is in `s3Error` and the
 * message), or a local file could not be written. `destination` is the object URI or the file.
 * The message never holds file contents or credentials. Named `UploadFailed`, the error type Step
 * Functions sees.
 */
export class UploadFailedError extends TransferError {
  override name = "UploadFailed";
  /** The sink whose output was being written; absent when the destination itself could not be created. */
  readonly processorId?: string;
  readonly destination: string;
  readonly s3Error?: string;
  constructor(message: string, details: { processorId?: string; destination: string; s3Error?: string; cause?: unknown }) {
    super("upload_failed", message, { cause: details.cause });
    if (details.processorId !== undefined) this.processorId = details.processorId;
    this.destination = details.destination;
    if (details.s3Error !== undefined) this.s3Error = details.s3Error;
  }
}

/**
 * A Lambda handler's payload does not match its contract (docs/asl-contract.md): the machine that
 * sent it was not compiled by this code, or was edited by hand. `name` is the error type Step
 * Functions sees and a Retry/Catch may match.
 */
export class HandlerInputError extends ComputeNodeError {
  override name = "HandlerInputError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("invalid_handler_input", message, options);
  }
}

/** A Lambda handler is missing part of its configuration (an environment variable the node program sets). */
export class HandlerConfigError extends ComputeNodeError {
  override name = "HandlerConfigError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("handler_misconfigured", message, options);
  }
}

/** The join function's payload is malformed (lib/integrations/join/contract.ts). */
export class JoinInputError extends HandlerInputError {
  override name = "JoinInputError";
}

/** The join function lacks an environment variable (its table). */
export class JoinConfigError extends HandlerConfigError {
  override name = "JoinConfigError";
}

/** The finalize function's payload is malformed, or names another execution. */
export class FinalizeInputError extends HandlerInputError {
  override name = "FinalizeInputError";
}

/** The finalize function lacks an environment variable (log group, archive bucket). */
export class FinalizeConfigError extends HandlerConfigError {
  override name = "FinalizeConfigError";
}

/**
 * A bug in compute-node, not a problem with the caller's input: e.g. AWS refused a state machine
 * definition our compiler produced. CLI exit 1, HTTP 500; the message asks to report it.
 */
export class InternalError extends ComputeNodeError {
  override name = "InternalError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("internal", `${message} (this is a bug in compute-node, not in your input: please report it with the command or request that caused it)`, options);
  }
}

/**
 * What an error means to whoever called us, decided once for every command and route: the CLI maps
 * it to an exit code (lib/cli/io.ts) and the service to an HTTP status (provisioner-service/http-errors.ts).
 * `invalid_input`: the caller must change something (a ValidationError, or a CompileError: the workflow
 * does not fit Step Functions). `internal`: our bug, or an error we never meant to throw.
 */
export type ErrorKind = "invalid_input" | "not_found" | "conflict" | "unavailable" | "failed" | "internal";

export function errorKind(err: unknown): ErrorKind {
  if (!isComputeNodeError(err)) return "internal";
  // A compiled definition that is not valid ASL (the local runner's check) is the compiler's bug, as AWS's InvalidDefinition is.
  if (err instanceof InternalError || err.code === "internal" || (err instanceof CompileError && err.code === "invalid_definition")) return "internal";
  if (err instanceof ValidationError || err instanceof CompileError || err.code === "invalid_input") return "invalid_input";
  if (err instanceof NotFoundError) return "not_found";
  if (err instanceof ConflictError) return "conflict";
  if (err instanceof UnavailableError) return "unavailable";
  return "failed";
}

export function toDotPath(path: (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${part}` : part), "");
}

export function formatIssues(issues: ValidationIssue[]): string {
  if (issues.length === 0) return "invalid input";
  return issues
    .map((issue) => {
      const where = [issue.processorId ? `processor "${issue.processorId}"` : "", toDotPath(issue.path)].filter(Boolean).join(" at ");
      const text = where ? `${where}: ${issue.message}` : issue.message;
      return issue.file ? `${issue.file}: ${text}` : text;
    })
    .join("\n");
}

/** A tokens payload is malformed, or a token cannot be delivered as it is. The message never holds a token. */
export class TokenInputError extends ComputeNodeError {
  override name = "TokenInputError";
  readonly field?: string;
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super("invalid_token_input", message, options);
    if (options?.field !== undefined) this.field = options.field;
  }
}

/**
 * The session token has expired (or is about to) and the node's Cognito app client would not
 * refresh it: the processor would start with a token the API refuses. The cause is Cognito's
 * error (its name only is kept in the message; no token is).
 */
export class TokenRefreshError extends ComputeNodeError {
  override name = "TokenRefreshFailed";
  constructor(message: string, options?: { cause?: unknown }) {
    super("token_refresh_failed", message, options);
  }
}
