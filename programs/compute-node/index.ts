import * as pulumi from "@pulumi/pulumi";
import { computeNodeProgram } from "../../lib/node/program";
import { readStackConfig } from "../../lib/node/stack-config";

// Invalid config throws here, before any resource is registered.
const config = readStackConfig(new pulumi.Config("compute-node"), new pulumi.Config("aws").get("region"));

export = computeNodeProgram(config);
