/** JSON values that may appear in ASL Parameters, Result and ResultSelector. */
export type AslJson = string | number | boolean | null | AslJson[] | { [key: string]: AslJson };
export type AslObject = { [key: string]: AslJson };

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: "FULL" | "NONE";
}

export interface AslCatcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

interface AslStateBase {
  Comment?: string;
  Next?: string;
  End?: true;
  InputPath?: string | null;
  OutputPath?: string | null;
}

export interface AslTaskState extends AslStateBase {
  Type: "Task";
  Resource: string;
  Parameters?: AslObject;
  ResultSelector?: AslObject;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  Retry?: AslRetrier[];
  Catch?: AslCatcher[];
}

export interface AslPassState extends AslStateBase {
  Type: "Pass";
  Parameters?: AslObject;
  Result?: AslJson;
  ResultPath?: string | null;
}

export interface AslParallelState extends AslStateBase {
  Type: "Parallel";
  Branches: AslGraph[];
  ResultSelector?: AslObject;
  ResultPath?: string | null;
  Retry?: AslRetrier[];
  Catch?: AslCatcher[];
}

export interface AslMapState extends AslStateBase {
  Type: "Map";
  ItemsPath: string;
  ItemSelector?: AslObject;
  ItemProcessor: AslGraph & { ProcessorConfig?: { Mode: "INLINE" } | { Mode: "DISTRIBUTED"; ExecutionType: "STANDARD" | "EXPRESS" } };
  MaxConcurrency?: number;
  Label?: string;
  ResultSelector?: AslObject;
  ResultPath?: string | null;
  Retry?: AslRetrier[];
  Catch?: AslCatcher[];
}

export interface AslChoiceCondition {
  Variable: string;
  IsPresent?: boolean;
  StringEquals?: string;
}

/** A Choice rule: one condition, or all of `And`. */
export type AslChoiceRule = (AslChoiceCondition | { And: AslChoiceCondition[] }) & { Next: string };

export interface AslChoiceState {
  Type: "Choice";
  Comment?: string;
  Choices: AslChoiceRule[];
  Default?: string;
}

export interface AslFailState {
  Type: "Fail";
  Comment?: string;
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
}

export interface AslSucceedState {
  Type: "Succeed";
  Comment?: string;
  OutputPath?: string | null;
}

export type AslState = AslTaskState | AslPassState | AslParallelState | AslMapState | AslChoiceState | AslFailState | AslSucceedState;

/** A branch, a Map's item processor, or a whole machine: states reachable from StartAt. */
export interface AslGraph {
  StartAt: string;
  States: Record<string, AslState>;
}

/** A complete Amazon States Language definition (JSONPath query language). */
export interface AslStateMachine extends AslGraph {
  Comment?: string;
  TimeoutSeconds?: number;
  QueryLanguage?: "JSONPath";
}
