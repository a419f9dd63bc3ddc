// Package hooks is where package client registers the accessors that
// sdkinternal exposes. It is a leaf so that client can import it without
// a cycle; nothing but client and sdkinternal uses it.
package hooks

import (
	"context"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
)

// Internals are a client's parts.
type Internals struct {
	Chain   *chainclient.Client
	Signer  *chainclient.Signer
	Encoder *redstuff.Encoder
	Node    func(address string) (*nodeapi.Client, error)
	// Committees are the current committee and, during an epoch change,
	// the previous one.
	Committees func(ctx context.Context) (cur, prev *committee.Committee, err error)
	// StoreEncoded stores an already encoded blob; opts is a
	// client.StoreOptions and the result a *client.StoreResult.
	StoreEncoded func(ctx context.Context, x *redstuff.Encoded, opts any) (any, error)
}

var (
	// Of returns the internals of a *client.Client.
	Of func(c any) Internals
	// New makes a *client.Client over a chain connection; cfg is a client.Config.
	New func(ctx context.Context, ch *chainclient.Client, signer *chainclient.Signer, cfg any) (any, error)
)
