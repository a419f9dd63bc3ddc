// Package sdkinternal reaches behind the client SDK's public surface: the
// chain connection, the signer, the encoder and node API clients of a
// client.Client, and a client over a chain connection made elsewhere.
// Only the devnet, the benchmarks, the test network and tests use it; the
// gateway and the CLI's commands go through package client alone (the
// layering test enforces it).
package sdkinternal

import (
	"context"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/internal/sdkinternal/hooks"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
)

// New returns a client over ch that pays and signs with signer (nil:
// read-only). Closing it leaves ch open.
func New(ctx context.Context, ch *chainclient.Client, signer *chainclient.Signer, cfg client.Config) (*client.Client, error) {
	c, err := hooks.New(ctx, ch, signer, cfg)
	if err != nil {
		return nil, err
	}
	return c.(*client.Client), nil
}

// Chain is the client's chain connection.
func Chain(c *client.Client) *chainclient.Client { return hooks.Of(c).Chain }

// Signer is the client's signer (nil: read-only).
func Signer(c *client.Client) *chainclient.Signer { return hooks.Of(c).Signer }

// Encoder is the client's encoder for the network's parameters.
func Encoder(c *client.Client) *redstuff.Encoder { return hooks.Of(c).Encoder }

// Node is the client's API client of the node at address.
func Node(c *client.Client, address string) (*nodeapi.Client, error) {
	return hooks.Of(c).Node(address)
}

// Committees are the client's view of the current committee and, during
// an epoch change, the previous one.
func Committees(ctx context.Context, c *client.Client) (cur, prev *committee.Committee, err error) {
	return hooks.Of(c).Committees(ctx)
}

// StoreEncoded stores a blob the caller encoded.
func StoreEncoded(ctx context.Context, c *client.Client, x *redstuff.Encoded, opts client.StoreOptions) (*client.StoreResult, error) {
	res, err := hooks.Of(c).StoreEncoded(ctx, x, opts)
	r, _ := res.(*client.StoreResult)
	return r, err
}
