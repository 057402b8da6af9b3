// lib/transfer is bundled alone into the data-transfer Lambda, so it cannot import lib/errors.ts.
// It carries the same brand instead, so isComputeNodeError() recognises these errors too.
const BRAND = Symbol.for("compute-node.error");

/** Base of the data-transfer errors; `name` is what Step Functions sees as the Lambda's error type. */
export class TransferError extends Error {
  override name = "TransferError";
  readonly code: string;
  readonly [BRAND] = true;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
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

/** A data-transfer payload is malformed or points somewhere it must not. */
export class TransferInputError extends TransferError {
  override name = "TransferInputError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("invalid_transfer_input", message, options);
  }
}
