package abci_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	rpclocal "github.com/cometbft/cometbft/rpc/client/local"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/merkle"
	"github.com/walrus-go/walrus/wire"
)

// BenchmarkCertifyBlob measures certify_blob throughput on one in-process
// validator: b.N blobs are registered and their certificates (all four
// members of the committee) built before the timer starts; then one
// certify_blob transaction per blob is submitted from four accounts and
// the clock stops when the last one is committed. Reports certified blobs/s.
//
//	go test -run XXX -bench CertifyBlob -benchtime 4000x ./chain/abci/
func BenchmarkCertifyBlob(b *testing.B) {
	ctx := context.Background()
	const accounts = 4
	var users []ed25519.PrivateKey
	g := &chain.Genesis{NShards: 1000, EpochDurationMs: 3_600_000, MaxEpochsAhead: 5, StoragePrice: 1, WritePrice: 1, Capacity: 1 << 50, MinFee: 1}
	for i := range accounts {
		users = append(users, testKey(fmt.Sprint("bench user ", i)))
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: ids.AddressOf(users[i].Public().(ed25519.PublicKey)), Balance: 1e15})
	}
	var keys []*bls.SecretKey
	for i := range 10 {
		ikm := sha256.Sum256([]byte{byte(i), 'k'})
		sk, _ := bls.KeyFromIKM(ikm[:])
		keys = append(keys, sk)
		op := testKey(fmt.Sprint("op", i))
		g.Nodes = append(g.Nodes, chain.NewGenesisNode("n", "127.0.0.1:1", sk, nil, ids.AddressOf(op.Public().(ed25519.PublicKey)), 1e12))
	}
	n, err := abci.StartEmbedded(ctx, abci.EmbeddedConfig{Dir: b.TempDir(), ChainID: "walrus-bench", Genesis: g})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Stop()
	c, err := chainclient.New(ctx, rpclocal.New(n.CometBFT()), chainclient.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	com, err := c.Committee(ctx, "current")
	if err != nil {
		b.Fatal(err)
	}
	sys, _ := c.System(ctx)
	params := blob.MustParams(int(sys.NShards))
	enc, _ := params.EncodedLength(1000)

	// Register b.N blobs, 32 per transaction, spread over the accounts.
	type item struct {
		owner int
		call  *chain.CertifyBlob
	}
	items := make([]item, 0, b.N)
	signers := make([]*chainclient.Signer, accounts)
	for i := range signers {
		signers[i] = chainclient.NewSigner(users[i])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, accounts)
	per := (b.N + accounts - 1) / accounts
	for u := range accounts {
		wg.Go(func() {
			for done := u * per; done < min((u+1)*per, b.N); {
				k := min(32, min((u+1)*per, b.N)-done)
				var calls []chain.Call
				var idList []blob.ID
				for j := range k {
					root := merkle.Node(sha256.Sum256([]byte(fmt.Sprint(done + j))))
					id := blob.DeriveID(blob.RS2, 1000, root)
					idList = append(idList, id)
					calls = append(calls, &chain.ReserveSpace{EncodedSize: enc, EpochsAhead: 1},
						&chain.RegisterBlob{Storage: chain.CreatedRef(2 * j), BlobID: id, RootHash: root, Size: 1000, EncodingType: 1})
				}
				res, err := c.Execute(ctx, signers[u], calls...)
				if err != nil {
					errs <- err
					return
				}
				for j, id := range idList {
					msg := (&wire.Confirmation{Epoch: sys.Epoch, BlobID: id, Persistence: wire.Permanent}).Marshal()
					var sigs []bls.Signature
					var idx []uint16
					for m := range com.Members {
						for _, sk := range keys {
							if sk.PublicKey().Bytes() == com.Members[m].PublicKey {
								sigs = append(sigs, sk.Sign(msg))
								idx = append(idx, uint16(m))
							}
						}
					}
					agg, _ := bls.AggregateSignatures(sigs)
					bm, _ := wire.SignersBitmap(idx, len(com.Members))
					mu.Lock()
					items = append(items, item{u, &chain.CertifyBlob{Blob: chain.Ref(res.Created[2*j+1]), Signature: agg.Bytes(), SignersBitmap: bm, Message: msg}})
					mu.Unlock()
				}
				done += k
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	// Sign every certify transaction beforehand too.
	raws := make([][][]byte, accounts)
	var last [accounts]uint64
	for u := range accounts {
		a, _ := c.Account(ctx, signers[u].Address())
		last[u] = a.Sequence
	}
	for _, it := range items {
		last[it.owner]++
		raw, _ := chain.Sign(&chain.Tx{Sender: signers[it.owner].Address(), Sequence: last[it.owner], Fee: 1, Calls: []chain.Call{it.call}}, "walrus-bench", users[it.owner])
		raws[it.owner] = append(raws[it.owner], raw)
	}
	startHeight := n.App().Height()
	b.ResetTimer()
	start := time.Now()
	for u := range accounts {
		wg.Go(func() {
			for _, raw := range raws[u] {
				if _, err := c.Submit(ctx, raw); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for u := range accounts {
		for {
			a, err := chain.LoadAccount(n.App(), signers[u].Address())
			if err != nil {
				b.Fatal(err)
			}
			if a.Sequence == last[u] {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	// Every blob is certified.
	for _, it := range items {
		o, err := chain.LoadObject(n.App(), it.call.Blob.ID)
		if err != nil || !o.Blob.Certified() {
			b.Fatalf("blob %s not certified", it.call.Blob.ID)
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "certified/s")
	b.ReportMetric(float64(n.App().Height()-startHeight), "blocks")
}
