package testnet_test

import (
	"context"
	"testing"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
)

// BenchmarkStoreTransport stores a 16 MiB blob on 4 nodes (n = 1000) over
// pinned TLS and over plain HTTP, with the node's limits at their
// defaults in both: what TLS costs a store, measured in the same run.
// Each iteration stores fresh bytes.
//
//	go test ./internal/testnet -run '^$' -bench StoreTransport -count 6 | benchstat -col /transport -
func BenchmarkStoreTransport(b *testing.B) {
	for _, tr := range []struct {
		name  string
		plain bool
	}{{"tls", false}, {"plain", true}} {
		b.Run("transport="+tr.name, func(b *testing.B) {
			net := testnet.Start(b, testnet.Config{Nodes: 4, Shards: 1000,
				NodeConfig: func(_ int, c *node.Config) { c.TLS.DisableTLS = tr.plain },
				Client:     client.Config{PlainHTTP: tr.plain}})
			data := randomBytes(16<<20, 1)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := range b.N {
				data[0], data[1] = byte(i), byte(i>>8)
				if _, err := net.Client.Store(context.Background(), data, client.StoreOptions{Epochs: 1, Force: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
