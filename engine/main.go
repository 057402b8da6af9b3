// Command pulumi-resource-aws is compute-node's build of the Pulumi AWS provider: terraform-provider-aws
// (trimmed to the services the compute node uses, see services.txt) bridged with
// pulumi-terraform-bridge and served under the resource and function tokens of the @pulumi/aws npm
// SDK (aws:<module>/<name>:<Name>), with @pulumi/aws's autonaming, tags and provider defaults for
// the resources it maps. scripts/engine-build.sh builds it into .engine/ (docs/engine.md).
//
// Flags besides serving the provider (the Pulumi CLI starts it without flags):
//
//	--version                 the provider version (the @pulumi/aws version it stands in for)
//	--emit-schema FILE        write the Pulumi package schema it serves to FILE and exit
//	--get-provider-info       the bridge's provider info as JSON
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	awsshim "github.com/hashicorp/terraform-provider-aws/shim"
	pftfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/x/muxer"
	"github.com/pulumi/pulumi-terraform-bridge/v3/unstable/metadata"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// version is the @pulumi/aws version whose tokens this provider serves; set with -ldflags -X by the build.
var version = "7.48.0"

// The file next to the binary that holds the schema --emit-schema wrote at build time.
const schemaFile = "schema.json"

func main() {
	ctx := context.Background()
	if len(os.Args) == 3 && os.Args[1] == "--emit-schema" {
		if err := emitSchema(ctx, os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-resource-aws: %v\n", err)
			os.Exit(1)
		}
		return
	}
	info, err := providerInfo(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-aws: %v\n", err)
		os.Exit(1)
	}
	pftfbridge.MainWithMuxer(ctx, "aws", info, servedSchema())
}

// servedSchema is the schema written at build time beside the executable; without it, GetSchema
// answers an empty package and the bridge skips its (advisory) input type checks.
func servedSchema() []byte {
	exe, err := os.Executable()
	if err == nil {
		if data, err := os.ReadFile(filepath.Join(filepath.Dir(exe), schemaFile)); err == nil {
			return data
		}
	}
	return []byte(fmt.Sprintf(`{"name":"aws","version":%q}`, version))
}

func emitSchema(ctx context.Context, out string) error {
	info, err := providerInfo(ctx)
	if err != nil {
		return err
	}
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{ProviderInfo: info, DiagnosticsSink: sink, XInMemoryDocs: true})
	if err != nil {
		return fmt.Errorf("generating the schema: %w", err)
	}
	data, err := json.MarshalIndent(res.PackageSpec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

// Resource tokens of @pulumi/aws 7.x for the Terraform resources the compute node uses.
var resourceTokens = map[string]string{
	"aws_autoscaling_group":                 "aws:autoscaling/group:Group",
	"aws_budgets_budget":                    "aws:budgets/budget:Budget",
	"aws_cloudwatch_event_rule":             "aws:cloudwatch/eventRule:EventRule",
	"aws_cloudwatch_event_target":           "aws:cloudwatch/eventTarget:EventTarget",
	"aws_cloudwatch_log_group":              "aws:cloudwatch/logGroup:LogGroup",
	"aws_dynamodb_table":                    "aws:dynamodb/table:Table",
	"aws_eip":                               "aws:ec2/eip:Eip",
	"aws_flow_log":                          "aws:ec2/flowLog:FlowLog",
	"aws_internet_gateway":                  "aws:ec2/internetGateway:InternetGateway",
	"aws_launch_template":                   "aws:ec2/launchTemplate:LaunchTemplate",
	"aws_nat_gateway":                       "aws:ec2/natGateway:NatGateway",
	"aws_route":                             "aws:ec2/route:Route",
	"aws_route_table":                       "aws:ec2/routeTable:RouteTable",
	"aws_route_table_association":           "aws:ec2/routeTableAssociation:RouteTableAssociation",
	"aws_security_group":                    "aws:ec2/securityGroup:SecurityGroup",
	"aws_subnet":                            "aws:ec2/subnet:Subnet",
	"aws_vpc":                               "aws:ec2/vpc:Vpc",
	"aws_vpc_endpoint":                      "aws:ec2/vpcEndpoint:VpcEndpoint",
	"aws_ecs_capacity_provider":             "aws:ecs/capacityProvider:CapacityProvider",
	"aws_ecs_cluster":                       "aws:ecs/cluster:Cluster",
	"aws_ecs_cluster_capacity_providers":    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
	"aws_efs_access_point":                  "aws:efs/accessPoint:AccessPoint",
	"aws_efs_file_system":                   "aws:efs/fileSystem:FileSystem",
	"aws_efs_mount_target":                  "aws:efs/mountTarget:MountTarget",
	"aws_iam_instance_profile":              "aws:iam/instanceProfile:InstanceProfile",
	"aws_iam_role":                          "aws:iam/role:Role",
	"aws_iam_role_policy":                   "aws:iam/rolePolicy:RolePolicy",
	"aws_iam_role_policy_attachment":        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
	"aws_kms_alias":                         "aws:kms/alias:Alias",
	"aws_kms_key":                           "aws:kms/key:Key",
	"aws_lambda_function":                   "aws:lambda/function:Function",
	"aws_lambda_function_url":               "aws:lambda/functionUrl:FunctionUrl",
	"aws_lambda_permission":                 "aws:lambda/permission:Permission",
	"aws_s3_bucket":                         "aws:s3/bucket:Bucket",
	"aws_s3_bucket_lifecycle_configuration": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
	"aws_s3_bucket_ownership_controls":      "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
	"aws_s3_bucket_policy":                  "aws:s3/bucketPolicy:BucketPolicy",
	"aws_s3_bucket_public_access_block":     "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
	"aws_s3_bucket_server_side_encryption_configuration": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
	"aws_s3_bucket_versioning":                           "aws:s3/bucketVersioning:BucketVersioning",
}

// Function (data source) tokens of @pulumi/aws 7.x.
var functionTokens = map[string]string{
	"aws_availability_zones": "aws:index/getAvailabilityZones:getAvailabilityZones",
	"aws_caller_identity":    "aws:index/getCallerIdentity:getCallerIdentity",
	"aws_partition":          "aws:index/getPartition:getPartition",
	"aws_region":             "aws:index/getRegion:getRegion",
	"aws_route_tables":       "aws:ec2/getRouteTables:getRouteTables",
	"aws_ssm_parameter":      "aws:ssm/getParameter:getParameter",
	"aws_subnets":            "aws:ec2/getSubnets:getSubnets",
	"aws_vpc":                "aws:ec2/getVpc:getVpc",
}

// Field overrides of @pulumi/aws (its provider/resources.go) for the mapped resources: renamed
// properties, assets and autonaming that differs from the default (`name`, 255 characters, "-").
func resourceFields() map[string]map[string]*tfbridge.SchemaInfo {
	return map[string]map[string]*tfbridge.SchemaInfo{
		// Terraform's list blocks are pluralized by the bridge; @pulumi/aws keeps these names.
		"aws_dynamodb_table": {
			"global_secondary_index": {Name: "globalSecondaryIndexes"},
			"local_secondary_index":  {Name: "localSecondaryIndexes"},
		},
		"aws_cloudwatch_event_rule": {"name": tfbridge.AutoName("name", 64, "-")},
		"aws_iam_role":              {"name": tfbridge.AutoName("name", 64, "-")},
		"aws_lambda_function": {
			"function_name": tfbridge.AutoName("name", 64, "-"),
			"filename": {
				Name:  "code",
				Asset: &tfbridge.AssetTranslation{Kind: tfbridge.FileArchive, Format: resource.ZIPArchive, HashField: "source_code_hash"},
			},
		},
		// @pulumi/aws takes the function (a Function or its name) as `function`.
		"aws_lambda_permission": {"function_name": {Name: "function"}},
		"aws_s3_bucket":         {"bucket": tfbridge.AutoNameTransform("bucket", 63, strings.ToLower)},
		// @pulumi/aws defaults a security group's description (the API requires one).
		"aws_security_group": {
			"description": {Default: &tfbridge.DefaultInfo{Value: "Managed by Pulumi"}},
			"ingress":     {Name: "ingress"},
			"egress":      {Name: "egress"},
		},
	}
}

func providerInfo(ctx context.Context) (tfbridge.ProviderInfo, error) {
	primary, framework, err := awsshim.NewProviders(ctx)
	if err != nil {
		return tfbridge.ProviderInfo{}, fmt.Errorf("creating the terraform-provider-aws providers: %w", err)
	}
	p := pftfbridge.MuxShimWithDisjointgPF(ctx, shimv2.NewProvider(primary), framework)

	info := tfbridge.ProviderInfo{
		P:            p,
		Name:         "aws",
		Version:      version,
		DisplayName:  "AWS (compute-node build)",
		Description:  "The Pulumi AWS provider, built by compute-node from terraform-provider-aws for the resources a compute node uses.",
		License:      "Apache-2.0",
		GitHubOrg:    "hashicorp",
		Repository:   "https://github.com/pulumi/pulumi-aws",
		MetadataInfo: tfbridge.NewProviderMetadata([]byte("{}")),
		Config: map[string]*tfbridge.SchemaInfo{
			"region": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"AWS_REGION", "AWS_DEFAULT_REGION"}}},
			// As in @pulumi/aws: no IMDS probe and no region allow-list unless asked for.
			// A string in Terraform ("true", "false" or ""), a boolean in @pulumi/aws.
			"skip_metadata_api_check": {Type: "boolean", Default: &tfbridge.DefaultInfo{Value: true}},
			"skip_region_validation":  {Default: &tfbridge.DefaultInfo{Value: true}},
		},
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	fields := resourceFields()
	for tf, tok := range resourceTokens {
		res := p.ResourcesMap().Get(tf)
		if res == nil {
			return info, fmt.Errorf("terraform-provider-aws has no resource %s (is its service in engine/services.txt?)", tf)
		}
		ri := &tfbridge.ResourceInfo{Tok: tokens.Type(tok), Fields: fields[tf]}
		if ri.Fields == nil {
			ri.Fields = map[string]*tfbridge.SchemaInfo{}
		}
		// @pulumi/aws autonames every input property called `name` (provider/autonaming.go).
		if sch := res.Schema().Get("name"); sch != nil && (sch.Optional() || sch.Required()) {
			if _, set := ri.Fields["name"]; !set {
				ri.Fields["name"] = tfbridge.AutoName("name", 255, "-")
			}
		}
		if hasTagsAndTagsAll(res) {
			ri.PreCheckCallback = applyTags
			// An output in @pulumi/aws: the provider computes it from `tags` and the default tags.
			if _, set := ri.Fields["tags_all"]; !set {
				ri.Fields["tags_all"] = &tfbridge.SchemaInfo{MarkAsComputedOnly: tfbridge.True()}
			}
		}
		info.Resources[tf] = ri
	}
	for tf, tok := range functionTokens {
		if p.DataSourcesMap().Get(tf) == nil {
			return info, fmt.Errorf("terraform-provider-aws has no data source %s (is its service in engine/services.txt?)", tf)
		}
		info.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(tok)}
	}

	// Everything else upstream serves stays unmapped on purpose (schema generation would refuse it).
	p.ResourcesMap().Range(func(tf string, _ shim.Resource) bool {
		if _, ok := info.Resources[tf]; !ok {
			info.IgnoreMappings = append(info.IgnoreMappings, tf)
		}
		return true
	})
	p.DataSourcesMap().Range(func(tf string, _ shim.Resource) bool {
		if _, ok := info.DataSources[tf]; !ok {
			info.IgnoreMappings = append(info.IgnoreMappings, tf)
		}
		return true
	})
	// Terraform provider functions (arn_parse…): @pulumi/aws 7.x serves none of them either.
	for tf := range p.Functions() {
		info.IgnoreMappings = append(info.IgnoreMappings, tf)
	}

	// The mux table of the SDKv2 and Plugin Framework halves, which the published provider computes
	// when it generates its schema (bridge-metadata.json), computed here at start-up instead.
	resolver, ok := p.(interface {
		ResolveDispatch(*tfbridge.ProviderInfo) (muxer.DispatchTable, error)
	})
	if !ok {
		return info, fmt.Errorf("the muxed provider cannot resolve its dispatch table (bridge API changed?)")
	}
	table, err := resolver.ResolveDispatch(&info)
	if err != nil {
		return info, fmt.Errorf("computing the mux dispatch table: %w", err)
	}
	if err := metadata.Set(info.GetMetadata(), "mux", table); err != nil {
		return info, err
	}
	return info, nil
}

func hasTagsAndTagsAll(res shim.Resource) bool {
	tags, ok := res.Schema().GetOk("tags")
	if !ok {
		return false
	}
	if _, ok := res.Schema().GetOk("tags_all"); !ok {
		return false
	}
	return !(tags.Computed() && !tags.Optional())
}

// applyTags is @pulumi/aws's tags transform (provider/tags.go): `tagsAll` is the provider's
// `defaultTags.tags` overlaid with the resource's `tags`, known at check time so a preview shows it
// and an unchanged program plans no tag diff. Unknown inputs make it unknown.
func applyTags(_ context.Context, config, meta resource.PropertyMap) (resource.PropertyMap, error) {
	ret := config.Copy()
	tags := resource.NewObjectProperty(resource.PropertyMap{})
	if t, ok := config["tags"]; ok {
		tags = t
	}
	if tags.ContainsUnknowns() || resource.NewObjectProperty(meta).ContainsUnknowns() {
		ret["tagsAll"] = resource.NewOutputProperty(resource.Output{Known: false})
		return ret, nil
	}
	all := resource.PropertyMap{}
	if d, ok := meta["defaultTags"]; ok && d.IsObject() {
		if dt, ok := d.ObjectValue()["tags"]; ok && dt.IsObject() {
			for k, v := range dt.ObjectValue() {
				if v.IsString() {
					all[k] = v
				}
			}
		}
	}
	if tags.IsObject() {
		for k, v := range tags.ObjectValue() {
			if v.IsString() {
				all[k] = v
			} else if v.IsNull() {
				delete(all, k)
			}
		}
	}
	ret["tagsAll"] = resource.NewObjectProperty(all)
	return ret, nil
}
