import { PolicyPack } from "@pulumi/policy";
import { nodeStackPolicies } from "../stack-policies";
import { costAllocationTagsPerResource, nodeResourcePolicies } from "../resource-policies";

// Constructing the pack serves it to the engine: `pulumi up --policy-pack lib/policy/pack`.
new PolicyPack("compute-node", { policies: [...nodeStackPolicies(), ...nodeResourcePolicies(), costAllocationTagsPerResource()] });
