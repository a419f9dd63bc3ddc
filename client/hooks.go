package client

import (
	"context"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/internal/sdkinternal/hooks"
	"github.com/walrus-go/walrus/redstuff"
)

// The accessors of package sdkinternal (the devnet, benchmarks and tests).
func init() {
	hooks.New = func(ctx context.Context, ch *chainclient.Client, signer *chainclient.Signer, cfg any) (any, error) {
		c, err := newClient(ctx, ch, signer, cfg.(Config))
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	hooks.Of = func(v any) hooks.Internals {
		c := v.(*Client)
		return hooks.Internals{
			Chain: c.chain, Signer: c.signer, Encoder: c.enc, Node: c.node, Committees: c.committees,
			StoreEncoded: func(ctx context.Context, x *redstuff.Encoded, opts any) (any, error) {
				return c.storeEncodedBlob(ctx, x, opts.(StoreOptions))
			},
		}
	}
}
