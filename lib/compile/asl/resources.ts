/** The service integrations compiled machines use (docs/asl-contract.md "Task resources"). */
export const RESOURCE = {
  getSecretValue: "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
  ecsRunTaskSync: "arn:aws:states:::ecs:runTask.sync",
  lambdaInvoke: "arn:aws:states:::lambda:invoke",
  lambdaInvokeWaitForToken: "arn:aws:states:::lambda:invoke.waitForTaskToken",
  startExecutionSync2: "arn:aws:states:::states:startExecution.sync:2",
} as const;
