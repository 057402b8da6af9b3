import type * as aws from "@pulumi/aws";

/**
 * Settings of the node's AWS provider that come from the environment rather than the node config.
 * With `AWS_ENDPOINT_URL` set (a local AWS such as moto, or a proxy) the provider addresses S3 by
 * path (`http://host/bucket/key`): virtual-hosted bucket names (`bucket.host`) do not resolve on
 * such an endpoint. The AWS SDK inside the provider reads `AWS_ENDPOINT_URL` (and the per-service
 * `AWS_ENDPOINT_URL_<SERVICE>`) itself. Nothing changes when it is unset.
 */
export function providerArgsFromEnv(env: NodeJS.ProcessEnv): Partial<aws.ProviderArgs> {
  if (!env.AWS_ENDPOINT_URL) return {};
  return { s3UsePathStyle: true };
}
