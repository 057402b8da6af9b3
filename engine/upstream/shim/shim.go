// Package shim exposes the terraform-provider-aws providers (internal packages) to the compute-node
// engine wrapper. Copied into the downloaded module by scripts/engine-build.sh: a package inside the
// module may import its internal packages, one outside may not.
package shim

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-provider-aws/internal"
	"github.com/hashicorp/terraform-provider-aws/internal/provider/framework"
	"github.com/hashicorp/terraform-provider-aws/internal/provider/sdkv2"
)

// NewProviders returns the Plugin SDK provider and the Plugin Framework provider that
// terraform-provider-aws muxes together (internal/provider/factory.go), unmuxed: the bridge muxes them.
func NewProviders(ctx context.Context) (*schema.Provider, provider.Provider, error) {
	internal.RegisterSmarterrFS()
	primary, err := sdkv2.NewProvider(ctx)
	if err != nil {
		return nil, nil, err
	}
	secondary, err := framework.NewProvider(ctx, primary)
	if err != nil {
		return nil, nil, err
	}
	return primary, secondary, nil
}
