import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "./config";
import { NodeNetwork } from "./network";
import { TAG } from "../model/tags";
import { assumeRole } from "./network";

export interface NodeCluster {
  cluster: aws.ecs.Cluster;
  /** Name of the GPU capacity provider, when the node has GPU capacity. */
  gpuCapacityProvider?: pulumi.Output<string>;
}

const GPU_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id";

/** The ECS cluster: Fargate (and Fargate Spot) always, plus an autoscaled g4dn capacity provider when GPU is on. */
export function createCluster(name: string, config: NodeConfig, network: NodeNetwork, tags: Record<string, string>, parent: pulumi.Resource): NodeCluster {
  const opts = { parent };
  const cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: `cn-${config.computeNodeId}`, settings: [{ name: "containerInsights", value: "enabled" }], tags }, opts);
  const providers: pulumi.Input<string>[] = ["FARGATE", "FARGATE_SPOT"];
  let gpuCapacityProvider: pulumi.Output<string> | undefined;
  if (config.gpu.enabled) {
    const instanceRole = new aws.iam.Role(`${name}-gpu-instance-role`, { assumeRolePolicy: assumeRole("ec2.amazonaws.com"), tags: { ...tags, [TAG.role]: "gpu-instance" } }, opts);
    new aws.iam.RolePolicyAttachment(`${name}-gpu-instance-ecs`, { role: instanceRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role" }, opts);
    const profile = new aws.iam.InstanceProfile(`${name}-gpu-instance-profile`, { role: instanceRole.name, tags }, opts);
    const ami = pulumi.output(aws.ssm.getParameter({ name: GPU_AMI_PARAMETER }, opts)).value;
    const template = new aws.ec2.LaunchTemplate(
      `${name}-gpu-template`,
      {
        imageId: ami,
        instanceType: config.gpu.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        // The ECS agent must reach ECS and ECR: basic mode's default subnets offer only a public IP for that.
        networkInterfaces: [{ associatePublicIpAddress: network.assignPublicIp ? "true" : "false", securityGroups: [network.processorSecurityGroup.id] }],
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        userData: cluster.name.apply((c) => Buffer.from(`#!/bin/bash\necho ECS_CLUSTER=${c} >> /etc/ecs/ecs.config\necho ECS_ENABLE_GPU_SUPPORT=true >> /etc/ecs/ecs.config\n`).toString("base64")),
        tagSpecifications: [{ resourceType: "instance", tags }],
        tags,
      },
      opts,
    );
    const group = new aws.autoscaling.Group(
      `${name}-gpu-asg`,
      {
        minSize: 0,
        maxSize: config.gpu.maxInstances,
        vpcZoneIdentifiers: network.subnetIds,
        launchTemplate: { id: template.id, version: "$Latest" },
        protectFromScaleIn: true,
        tags: [{ key: "AmazonECSManaged", value: "true", propagateAtLaunch: true }, ...Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true }))],
      },
      opts,
    );
    const provider = new aws.ecs.CapacityProvider(
      `${name}-gpu`,
      {
        autoScalingGroupProvider: {
          autoScalingGroupArn: group.arn,
          managedTerminationProtection: "ENABLED",
          managedScaling: { status: "ENABLED", targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 2 },
        },
        tags,
      },
      opts,
    );
    gpuCapacityProvider = provider.name;
    providers.push(provider.name);
  }
  // CPU processors ask for FARGATE explicitly; GPU processors omit the launch type and land on the default strategy.
  new aws.ecs.ClusterCapacityProviders(
    `${name}-capacity`,
    { clusterName: cluster.name, capacityProviders: providers, defaultCapacityProviderStrategies: [{ capacityProvider: gpuCapacityProvider ?? "FARGATE", weight: 1, base: 0 }] },
    opts,
  );
  return { cluster, gpuCapacityProvider };
}
