import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeLogGroupsCommand, ListTagsForResourceCommand as LogsTags } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeContinuousBackupsCommand, DescribeTableCommand, ListTagsOfResourceCommand } from "@aws-sdk/client-dynamodb";
import { DescribeFlowLogsCommand, DescribeInternetGatewaysCommand, DescribeNatGatewaysCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, DescribeVpcsCommand, Filter } from "@aws-sdk/client-ec2";
import { DescribeClustersCommand, DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { DescribeFileSystemsCommand, DescribeMountTargetsCommand } from "@aws-sdk/client-efs";
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand, ListRolesCommand, ListRoleTagsCommand } from "@aws-sdk/client-iam";
import { DescribeKeyCommand, GetKeyRotationStatusCommand, ListResourceTagsCommand } from "@aws-sdk/client-kms";
import { CreateFunctionCommand, GetFunctionCommand, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { GetBucketEncryptionCommand, GetBucketLifecycleConfigurationCommand, GetBucketPolicyCommand, GetBucketTaggingCommand, GetBucketVersioningCommand, GetPublicAccessBlockCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, DescribeStateMachineCommand, ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { NodeOutputsSchema } from "../../lib/model/node-outputs";
import { DeploymentMode } from "../../lib/model/mode";
import { startMoto, Moto } from "./moto";
import { cli, motoEnv, ok } from "./harness";
import { compare, inventory, sdk, Sdk } from "./inventory";

const OUTPUT_BUCKETS = ["arn:aws:s3:::e2e-results/runs"];

const NODE_TAGS = (id: string, mode: string) => ({ "compute-node:node": id, "compute-node:environment": "e2e", "compute-node:mode": mode, team: "engine-e2e" });

for (const mode of ["basic", "secure", "compliant"] as DeploymentMode[]) {
  describe(`engine e2e: a ${mode} node against moto`, function () {
    this.timeout(30 * 60_000);
    const nodeId = `e2e-${mode}`;
    let moto: Moto;
    let c: Sdk;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let log: string;
    let baseline: string[];
    let outputs: Record<string, any>;
    /** Network interfaces of the node's NAT gateway: moto keeps them after the gateway is deleted (docs/engine.md). */
    let natInterfaces: string[] = [];
    const run = (...args: string[]) => cli(args, { env, cwd: dir, log });
    const stackArgs = (...extra: string[]) => ["--mode", mode, "--config", "config.json", "--data-dir", "state", ...extra];

    before(async () => {
      moto = await startMoto();
      await moto.reset();
      c = sdk(moto.endpoint);
      dir = await mkdtemp(join(tmpdir(), `cn-e2e-${mode}-`));
      log = join(dir, "engine.log");
      env = motoEnv(moto.endpoint);
      await writeFile(join(dir, "config.json"), JSON.stringify({ computeNodeId: nodeId, region: "us-east-1", environment: "e2e", tags: { team: "engine-e2e" }, outputBucketArns: OUTPUT_BUCKETS }));
      baseline = await inventory(c);
      console.log(`      (engine output of this suite: ${log})`);
    });
    after(() => moto?.stop());

    it("node up creates the node through the real engine and provider; its outputs are complete", async () => {
      const up = ok(await run("node", "up", ...stackArgs("--yes", "--json", "--outputs-file", "node.json")), "node up");
      expect(up.json().changes.create, "resources created").to.be.greaterThan(20);
      outputs = JSON.parse(await readFile(join(dir, "node.json"), "utf8"));
      NodeOutputsSchema.parse(outputs);
      expect(outputs).to.include({ computeNodeId: nodeId, deploymentMode: mode, region: "us-east-1", environment: "e2e", assignPublicIp: mode === "basic" });
      for (const key of ["finalizeFunctionArn", "joinFunctionArn", "joinTableName", "executionTableName"]) expect(outputs[key], key).to.be.a("string").and.not.empty;
      if (mode !== "basic") expect(outputs.secretsKmsKeyArn).to.match(/^arn:aws:kms:us-east-1:\d{12}:key\//);
      else expect(outputs).to.not.have.property("secretsKmsKeyArn");
      // `node outputs` prints the same node.json.
      expect(ok(await run("node", "outputs", ...stackArgs()), "node outputs").json()).to.deep.equal(outputs);
    });

    it("moto holds the mode's invariants, read back with the SDK", async () => {
      const tags = NODE_TAGS(nodeId, mode);
      const hasTags = (actual: Record<string, string | undefined>, what: string) => expect(actual, `tags of ${what}`).to.include(tags);
      const kv = (list?: { Key?: string; Value?: string }[]) => Object.fromEntries((list ?? []).map((t) => [t.Key!, t.Value!]));

      // Log groups: 30 days, tagged; encrypted with the logs key in secure and compliant modes.
      const groups = (await c.logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? [];
      const nodeGroups = groups.filter((g) => g.logGroupName!.startsWith(`/compute-node/${nodeId}`) || g.logGroupName!.startsWith(`/aws/lambda/cn-${nodeId}-`));
      expect(nodeGroups.map((g) => g.logGroupName).sort()).to.include.members([`/compute-node/${nodeId}`, `/aws/lambda/cn-${nodeId}-data-transfer`, `/aws/lambda/cn-${nodeId}-finalize`, `/aws/lambda/cn-${nodeId}-join`]);
      for (const g of nodeGroups) {
        expect(g.retentionInDays, g.logGroupName).to.equal(30);
        if (mode !== "basic") expect(g.kmsKeyId, `${g.logGroupName} key`).to.match(/^arn:aws:kms:/);
        hasTags((await c.logs.send(new LogsTags({ resourceArn: g.arn!.replace(/:\*$/, "") }))).tags ?? {}, g.logGroupName!);
      }

      // The archive: private, versioned, Glacier after 90 days, expired after ~7 years, encrypted.
      const bucket = outputs.logArchiveBucket as string;
      expect(bucket).to.match(new RegExp(`^cn-${nodeId}-logs-`));
      const pab = (await c.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration!;
      expect(pab).to.include({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect((await c.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).to.equal("Enabled");
      const [rule] = (await c.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules!;
      expect(rule.Status).to.equal("Enabled");
      expect(rule.Transitions).to.deep.equal([{ Days: 90, StorageClass: "GLACIER" }]);
      expect(rule.Expiration?.Days).to.equal(7 * 365);
      const sse = (await c.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }))).ServerSideEncryptionConfiguration!.Rules![0].ApplyServerSideEncryptionByDefault!;
      expect(sse.SSEAlgorithm).to.equal(mode === "basic" ? "AES256" : "aws:kms");
      hasTags(kv((await c.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet), "archive bucket");
      // TLS only: moto cannot enforce it over its plain-HTTP loopback (docs/engine.md), so read the rule back.
      const policy = JSON.parse((await c.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy!);
      expect(policy.Statement).to.deep.include({ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } });

      // EFS: encrypted in every mode, with the node's own key outside basic mode; one mount target per subnet.
      const [fs] = (await c.efs.send(new DescribeFileSystemsCommand({ FileSystemId: outputs.efsFileSystemId }))).FileSystems!;
      expect(fs.Encrypted).to.equal(true);
      // Basic mode: the AWS-managed key; secure and compliant: the node's own.
      if (mode !== "basic") expect(fs.KmsKeyId).to.match(/^arn:aws:kms:.*:key\//);
      hasTags(kv(fs.Tags), "EFS");
      const mounts = (await c.efs.send(new DescribeMountTargetsCommand({ FileSystemId: fs.FileSystemId }))).MountTargets!;
      expect(mounts.map((m) => m.SubnetId).sort()).to.deep.equal([...outputs.subnetIds].sort());

      // Tables, functions, roles, cluster: tagged and where the outputs say.
      for (const table of [outputs.executionTableName, outputs.joinTableName]) {
        const desc = (await c.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!;
        hasTags(kv((await c.dynamodb.send(new ListTagsOfResourceCommand({ ResourceArn: desc.TableArn }))).Tags), table);
        if (mode !== "basic") expect(desc.SSEDescription?.KMSMasterKeyArn, `${table} key`).to.match(/^arn:aws:kms:/);
      }
      const pitr = await c.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: outputs.executionTableName }));
      expect(pitr.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).to.equal("ENABLED");
      for (const fn of ["data-transfer", "finalize", "join"]) {
        const f = await c.lambda.send(new GetFunctionCommand({ FunctionName: `cn-${nodeId}-${fn}` }));
        hasTags(f.Tags ?? {}, fn);
        const inVpc = fn === "data-transfer" || mode !== "basic";
        expect(f.Configuration?.VpcConfig?.SubnetIds ?? [], `${fn} subnets`).to.have.members(inVpc ? outputs.subnetIds : []);
        if (mode !== "basic") expect(f.Configuration?.KMSKeyArn, `${fn} environment key`).to.match(/^arn:aws:kms:/);
      }
      for (const arn of [outputs.stateMachineRoleArn, outputs.taskRoleArn, outputs.taskExecutionRoleArn, outputs.lambdaExecutionRoleArn]) {
        const name = arn.split("/").pop();
        expect((await c.iam.send(new GetRoleCommand({ RoleName: name }))).Role?.Arn).to.equal(arn);
        hasTags(kv((await c.iam.send(new ListRoleTagsCommand({ RoleName: name }))).Tags), `role ${name}`);
      }
      const [cluster] = (await c.ecs.send(new DescribeClustersCommand({ clusters: [outputs.clusterArn], include: ["TAGS"] }))).clusters!;
      expect(cluster.clusterName).to.equal(`cn-${nodeId}`);
      hasTags(Object.fromEntries((cluster.tags ?? []).map((t) => [t.key!, t.value!])), "cluster");

      // Network per mode.
      const [subnet] = (await c.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [outputs.subnetIds[0]] }))).Subnets!;
      const vpcId = subnet.VpcId!;
      const inVpc: Filter[] = [{ Name: "vpc-id", Values: [vpcId] }];
      const [vpc] = (await c.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs!;
      const endpoints = ((await c.ec2.send(new DescribeVpcEndpointsCommand({ Filters: inVpc }))).VpcEndpoints ?? []).filter((e) => String(e.State).toLowerCase() !== "deleted");
      const routes = (await c.ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc }))).RouteTables!.flatMap((t) => t.Routes ?? []);
      const flowLogs = (await c.ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: "resource-id", Values: [vpcId] }] }))).FlowLogs ?? [];
      const igws = (await c.ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: "attachment.vpc-id", Values: [vpcId] }] }))).InternetGateways ?? [];
      const nats = ((await c.ec2.send(new DescribeNatGatewaysCommand({ Filter: inVpc }))).NatGateways ?? []).filter((n) => n.State !== "deleted");
      const sgs = (await c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: outputs.securityGroupIds }))).SecurityGroups!;
      for (const sg of sgs) hasTags(kv(sg.Tags), `security group ${sg.GroupId}`);
      if (mode === "basic") {
        expect(vpc.IsDefault, "basic mode uses the default VPC").to.equal(true);
        const s3 = endpoints.filter((e) => e.ServiceName === "com.amazonaws.us-east-1.s3");
        expect(s3, "the node's S3 gateway endpoint").to.have.length(1);
        hasTags(kv(s3[0].Tags), "S3 gateway endpoint");
      } else {
        expect(vpc.IsDefault).to.equal(false);
        expect(vpc.CidrBlock).to.equal("10.40.0.0/16");
        hasTags(kv(vpc.Tags), "VPC");
        expect(flowLogs, "VPC flow logs").to.have.length(1);
        expect(flowLogs[0]).to.include({ TrafficType: "ALL", LogDestinationType: "cloud-watch-logs" });
        // Customer-managed keys rotate.
        for (const arn of [outputs.secretsKmsKeyArn, fs.KmsKeyId!]) {
          expect((await c.kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }))).KeyRotationEnabled, `rotation of ${arn}`).to.equal(true);
          hasTags(kv((await c.kms.send(new ListResourceTagsCommand({ KeyId: arn }))).Tags?.map((t) => ({ Key: t.TagKey, Value: t.TagValue }))), `key ${arn}`);
        }
        const subnets = (await c.ec2.send(new DescribeSubnetsCommand({ Filters: inVpc }))).Subnets!;
        for (const s of subnets) {
          expect(s.MapPublicIpOnLaunch, `${s.SubnetId} public IPs`).to.equal(false);
          hasTags(kv(s.Tags), `subnet ${s.SubnetId}`);
        }
      }
      if (mode === "secure") {
        expect(nats, "secure mode's NAT gateway").to.have.length(1);
        expect(igws).to.have.length(1);
        expect(routes.some((r) => r.DestinationCidrBlock === "0.0.0.0/0" && r.NatGatewayId === nats[0].NatGatewayId), "private subnets route through the NAT").to.equal(true);
        hasTags(kv(nats[0].Tags), "NAT gateway");
        natInterfaces = (nats[0].NatGatewayAddresses ?? []).map((a) => `ec2:eni:${a.NetworkInterfaceId}`);
      }
      if (mode === "compliant") {
        expect(igws, "no internet gateway").to.have.length(0);
        expect(nats, "no NAT gateway").to.have.length(0);
        expect(routes.filter((r) => r.DestinationCidrBlock === "0.0.0.0/0"), "no route to 0.0.0.0/0").to.have.length(0);
        const services = endpoints.map((e) => e.ServiceName!.replace("com.amazonaws.us-east-1.", "")).sort();
        expect(services).to.deep.equal(["dynamodb", "ecr.api", "ecr.dkr", "ecs", "elasticfilesystem", "kms", "lambda", "logs", "s3", "secretsmanager", "states", "sts"]);
        for (const e of endpoints) hasTags(kv(e.Tags), `endpoint ${e.ServiceName}`);
      }
    });

    it("preview right after up shows no changes, and a second up is a no-op", async () => {
      const preview = ok(await run("node", "preview", ...stackArgs("--json")), "node preview").json();
      expect(preview.steps, "steps of a preview right after up").to.deep.equal([]);
      expect(Object.keys(preview.changes).filter((op) => op !== "same" && preview.changes[op] > 0)).to.deep.equal([]);
      const again = ok(await run("node", "up", ...stackArgs("--yes", "--json")), "second node up").json();
      expect(Object.keys(again.changes).filter((op) => op !== "same" && again.changes[op] > 0), "second up").to.deep.equal([]);
    });

    it("deploy and start a workflow on the node's outputs with the CLI: the execution runs on its own role and functions", async () => {
      // Compliant mode refuses Lambda processors; there the workflow is ECS, whose runTask.sync moto cannot run.
      const lambda = mode !== "compliant";
      await writeFile(join(dir, "workflow.json"), JSON.stringify({ name: "e2e-wf", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] }));
      await writeFile(join(dir, "processors.json"), JSON.stringify(["img-a:1", "img-b:1"].map((sourceUrl) => ({ sourceUrl, computeTypes: [lambda ? "lambda" : "ecs"] }))));
      await writeFile(join(dir, "invocation.json"), JSON.stringify({ workflowInstanceConfiguration: { computeNodeId: nodeId } }));
      const files = ["--node", "node.json", "--processors", "processors.json"];
      const deployed = ok(await run("deploy", "workflow.json", ...files, "--json"), "deploy").json();
      const machine = (await c.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: deployed.stateMachineArn })));
      expect(machine.roleArn, "state machine role").to.equal(outputs.stateMachineRoleArn);
      expect(machine.definition, "the machine calls the node's data-transfer function").to.include(outputs.dataTransferFunctionArn);
      const started = ok(await run("start", "workflow.json", ...files, "--invocation", "invocation.json", "--json"), "start").json();
      const execution = await c.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      expect(execution.stateMachineArn).to.equal(deployed.stateMachineArn);
      if (!lambda) return;
      expect(Object.keys(deployed.lambdaFunctions).sort()).to.deep.equal(["a", "b"]);
      for (const arn of Object.values(deployed.lambdaFunctions) as string[]) {
        const fn = await c.lambda.send(new GetFunctionCommand({ FunctionName: arn }));
        expect(fn.Configuration?.Role, "Lambda processors run on the node's processor role").to.equal(outputs.lambdaExecutionRoleArn);
        expect(fn.Configuration?.VpcConfig?.SubnetIds).to.have.members(outputs.subnetIds);
      }
      let record: { status: string } | undefined;
      for (let i = 0; i < 120; i++) {
        record = ok(await run("status", started.executionArn, "--node", "node.json", "--json"), "status").json();
        if (record!.status !== "RUNNING" && record!.status !== "PENDING") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(record!.status, "moto echoes Lambda payloads: the orchestration completes").to.equal("SUCCEEDED");
    });

    it("lets the data-transfer function put objects only below outputBucketArns, and refuses a run naming another destination before it starts", async () => {
      expect(outputs.outputBucketArns).to.deep.equal(OUTPUT_BUCKETS);
      const role = ((await c.iam.send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? []).find((r) => r.RoleName!.startsWith(`cn-${nodeId}-data-transfer-role`))!;
      const [policyName] = (await c.iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName }))).PolicyNames!;
      const document = (await c.iam.send(new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: policyName }))).PolicyDocument!;
      const statements = (JSON.parse(decodeURIComponent(document)) as { Statement: { Sid?: string; Action: string[]; Resource: string | string[] }[] }).Statement;
      const puts = statements.filter((st) => [st.Action].flat().includes("s3:PutObject"));
      expect(puts.map((st) => [st.Sid, st.Resource])).to.deep.equal([["UploadOutputs", ["arn:aws:s3:::e2e-results/runs/*"]]]);

      const before = (await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: (await run("deploy", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--json")).json().stateMachineArn }))).executions ?? [];
      const refused = await run("start", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--invocation", "invocation.json", "--outputs", "s3://e2e-results/elsewhere/", "--json");
      expect(refused.code, "refused start").to.equal(2);
      // With --json the error is JSON on stdout; stderr also carries the SDK's Node deprecation warning.
      expect(refused.stdout + refused.stderr).to.contain("outputBucketArns");
      const deployed = (await run("deploy", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--json")).json();
      expect((await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: deployed.stateMachineArn }))).executions ?? []).to.have.length(before.length);
    });

    it("registers an ECS workflow: task definitions on the node's roles, for its cluster", async () => {
      await writeFile(join(dir, "ecs-workflow.json"), JSON.stringify({ name: "e2e-ecs", processors: [{ id: "x", sourceUrl: "img-x:1" }] }));
      await writeFile(join(dir, "ecs-processors.json"), JSON.stringify([{ sourceUrl: "img-x:1", computeTypes: ["ecs"], cpu: 1, memory: 2048 }]));
      const deployed = ok(await run("deploy", "ecs-workflow.json", "--node", "node.json", "--processors", "ecs-processors.json", "--json"), "deploy ECS").json();
      const [taskDefinition] = Object.values(deployed.taskDefinitions) as string[];
      const td = (await c.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }))).taskDefinition!;
      expect(td.family).to.match(new RegExp(`^cn-${nodeId}-`));
      expect(td.executionRoleArn).to.equal(outputs.taskExecutionRoleArn);
      expect(td.taskRoleArn).to.equal(outputs.taskRoleArn);
      expect(td.volumes?.[0]?.efsVolumeConfiguration?.fileSystemId).to.equal(outputs.efsFileSystemId);
      const machine = await c.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: deployed.stateMachineArn }));
      expect(machine.definition, "runs on the node's cluster").to.include(outputs.clusterArn);
    });

    it("a config change applies as an update, not a replacement of the VPC or EFS", async () => {
      const change = mode === "basic" ? { enableLLMAccess: true } : { availabilityZones: 3, enableLLMAccess: true, baaAcknowledged: true };
      await writeFile(join(dir, "config.json"), JSON.stringify({ computeNodeId: nodeId, region: "us-east-1", environment: "e2e", tags: { team: "engine-e2e" }, outputBucketArns: OUTPUT_BUCKETS, ...change }));
      const preview = ok(await run("node", "preview", ...stackArgs("--json")), "preview of the change").json();
      const replaced = preview.steps.filter((s: { op: string }) => s.op === "replace" || s.op === "create-replacement" || s.op === "delete-replaced");
      expect(replaced.map((s: { type: string }) => s.type), "replacements").to.not.include.members(["aws:ec2/vpc:Vpc", "aws:efs/fileSystem:FileSystem"]);
      expect(replaced.filter((s: { type: string }) => s.type === "aws:ec2/vpc:Vpc" || s.type === "aws:efs/fileSystem:FileSystem")).to.deep.equal([]);
      expect(preview.changes.create, "the change adds resources").to.be.greaterThan(0);
      const before = { vpc: await vpcOf(c, outputs), efs: outputs.efsFileSystemId };
      ok(await run("node", "up", ...stackArgs("--yes", "--json", "--outputs-file", "node.json")), "up with the change");
      outputs = JSON.parse(await readFile(join(dir, "node.json"), "utf8"));
      expect({ vpc: await vpcOf(c, outputs), efs: outputs.efsFileSystemId }, "same VPC and EFS").to.deep.equal(before);
      expect(outputs.llmGovernorFunctionArn).to.match(/:function:cn-e2e-[a-z]+-llm-governor$/);
      if (mode !== "basic") expect(outputs.subnetIds).to.have.length(3);
    });

    it("destroy runs the destroy hook and leaves nothing of the node but its log archive (bucket and key retained)", async () => {
      // What finalize leaves in the archive after a run: the retained bucket is not empty.
      await c.s3.send(new PutObjectCommand({ Bucket: outputs.logArchiveBucket, Key: `executions/${nodeId}/wi-1/processors/a/req-1.log`, Body: "2026-12-02T00:00:00Z hello\n" }));
      await c.s3.send(new PutObjectCommand({ Bucket: outputs.logArchiveBucket, Key: `executions/${nodeId}/wi-1/cost-report.json`, Body: "{}" }));
      // Another node's registered function, which the hook must leave alone.
      const other = `proc-lambda-other-node-${mode}`;
      await c.lambda.send(new CreateFunctionCommand({ FunctionName: other, PackageType: "Image", Code: { ImageUri: "x:1" }, Role: outputs.lambdaExecutionRoleArn }));
      const registered = await inventory(c);
      expect(registered.filter((x) => x.startsWith("sfn:state-machine:")), "runtime state machines before destroy").to.not.be.empty;

      ok(await run("node", "destroy", ...stackArgs("--yes", "--json")), "node destroy");

      const left = compare(baseline, await inventory(c));
      const bucket = `s3:bucket:${outputs.logArchiveBucket}`;
      const archiveKey = mode === "basic" ? [] : left.added.filter((x) => x.startsWith("kms:key:") && x.endsWith("(Enabled)"));
      // Keys AWS can only schedule for deletion count as deleted; the archive's key stays enabled.
      const pending = left.added.filter((x) => x.startsWith("kms:key:") && x.endsWith("(PendingDeletion)"));
      // moto (unlike AWS) keeps a deleted NAT gateway's network interface: that one, and only it, is excused.
      const natLeftovers = left.added.filter((x) => natInterfaces.includes(x));
      expect(left.added.filter((x) => x !== bucket && !pending.includes(x) && !archiveKey.includes(x) && !natLeftovers.includes(x) && x !== `lambda:function:${other}`), "left in moto after destroy").to.deep.equal([]);
      expect(left.added, "the archive bucket is retained").to.include(bucket);
      expect(left.added, "another node's function is untouched").to.include(`lambda:function:${other}`);
      expect(left.removed, "nothing of the baseline (default VPC…) was removed").to.deep.equal([]);
      if (mode !== "basic") {
        expect(archiveKey, "the archive's key is retained").to.have.length(1);
        expect(pending, "the node's other keys are scheduled for deletion").to.have.length(3);
        const keyId = archiveKey[0].replace(/^kms:key:/, "").replace(/\(.*$/, "");
        const sse = (await c.s3.send(new GetBucketEncryptionCommand({ Bucket: outputs.logArchiveBucket }))).ServerSideEncryptionConfiguration!.Rules![0].ApplyServerSideEncryptionByDefault!;
        expect(sse.KMSMasterKeyID, "the retained key is the archive's").to.include(keyId);
        expect((await c.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).to.equal("Enabled");
      }
      const objects = (await c.s3.send(new ListObjectsV2Command({ Bucket: outputs.logArchiveBucket }))).Contents ?? [];
      expect(objects.map((o) => o.Key).sort()).to.deep.equal([`executions/${nodeId}/wi-1/cost-report.json`, `executions/${nodeId}/wi-1/processors/a/req-1.log`]);
      const [rule] = (await c.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: outputs.logArchiveBucket }))).Rules!;
      expect(rule.Expiration?.Days, "the retained archive keeps expiring after ~7 years").to.equal(7 * 365);
      expect((await c.lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName)).to.deep.equal([other]);
      expect((await c.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns ?? [], "task definitions of the node").to.deep.equal([]);
      const gone = await run("node", "outputs", ...stackArgs("--json"));
      expect(gone.code, "the stack itself is removed").to.equal(1);
      expect(gone.json().error.message).to.include("does not exist");
    });
  });
}

async function vpcOf(c: Sdk, outputs: Record<string, any>): Promise<string> {
  const [subnet] = (await c.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [outputs.subnetIds[0]] }))).Subnets!;
  return subnet.VpcId!;
}
