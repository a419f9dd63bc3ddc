package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestDeletableReuse: a deletable PUT of a blob whose certified Blob
// object the publisher already holds (the first PUT's, which went to the
// main wallet) pays nothing and answers alreadyCertified with that
// object, an empty body included; force=true and a longer lifetime than
// the object's still store anew.
func TestDeletableReuse(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	// No refills during the test: the balances move only with the stores.
	const subs = 2
	_, pub := startServer(t, net, gateway.Config{Publisher: true, MetricsAddress: "off",
		Wallets: gateway.WalletsConfig{N: subs, RefillInterval: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys, err := gateway.SubWalletKeys(net.User, subs, "")
	if err != nil {
		t.Fatal(err)
	}
	wallets := []*client.Client{net.Client}
	for _, k := range keys {
		c, err := net.Client.WithKey(ctx, k, client.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wallets = append(wallets, c)
	}
	// total is what the main wallet and the sub-wallets hold together.
	total := func() uint64 {
		var sum uint64
		for _, c := range wallets {
			b, err := c.Balance(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sum += b
		}
		return sum
	}

	for _, c := range []struct {
		name string
		body []byte
	}{{"40 kB", randomBytes(40_000, 31)}, {"empty", nil}} {
		t.Run(c.name, func(t *testing.T) {
			before := total()
			first := putBlob(t, pub, "?epochs=2", c.body)
			if first.NewlyCreated == nil || !first.NewlyCreated.BlobObject.Deletable {
				t.Fatalf("first PUT: %+v", first)
			}
			paid := before - total()
			if paid == 0 {
				t.Fatal("the first PUT cost nothing")
			}
			obj := first.NewlyCreated.BlobObject.ID
			for _, q := range []string{"?epochs=2", "?epochs=1", "?epochs=2&deletable=true", ""} {
				before := total()
				again := putBlob(t, pub, q, c.body)
				if cost := before - total(); cost != 0 {
					t.Fatalf("PUT%s of the same body cost %d FROST again (the first %d): %+v", q, cost, paid, again)
				}
				ac := again.AlreadyCertified
				if ac == nil || ac.Object == nil || *ac.Object != obj || ac.BlobID != first.NewlyCreated.BlobObject.BlobID ||
					ac.EndEpoch != first.NewlyCreated.BlobObject.Storage.EndEpoch {
					t.Fatalf("PUT%s of the same body: want alreadyCertified with object %s, got %+v", q, obj, again)
				}
			}
			t.Logf("%s: the first PUT paid %d FROST, the identical ones nothing", c.name, paid)
		})
	}

	// Identical PUTs at once pay once: the others wait for the first and
	// reuse its object.
	t.Run("concurrent", func(t *testing.T) {
		body := randomBytes(20_000, 33)
		const n = 3
		results := make([]client.BlobStoreResult, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("PUT", pub+"/v1/blobs", bytes.NewReader(body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				if err := json.NewDecoder(resp.Body).Decode(&results[i]); err != nil || resp.StatusCode != 200 {
					t.Errorf("PUT %d: %d %v", i, resp.StatusCode, err)
				}
			}()
		}
		wg.Wait()
		var created, reusedObj int
		for _, r := range results {
			switch {
			case r.NewlyCreated != nil:
				created++
			case r.AlreadyCertified != nil && r.AlreadyCertified.Object != nil:
				reusedObj++
			}
		}
		if created != 1 || reusedObj != n-1 {
			t.Fatalf("%d identical PUTs at once: %d newly created, %d reused: %+v", n, created, reusedObj, results)
		}
	})

	// A quilt stored again from the same files reuses its object too.
	t.Run("quilt", func(t *testing.T) {
		files := map[string][]byte{"a.txt": randomBytes(3000, 34), "b.txt": randomBytes(5000, 35)}
		put := func() client.QuiltStoreResult {
			body, ct := quiltForm(t, files, []string{"a.txt", "b.txt"}, "")
			resp, b := call(t, "PUT", pub+"/v1/quilts", body, map[string]string{"Content-Type": ct})
			var qr client.QuiltStoreResult
			if resp.StatusCode != 200 || json.Unmarshal(b, &qr) != nil {
				t.Fatalf("PUT quilt: %d %s", resp.StatusCode, b)
			}
			return qr
		}
		first := put()
		before := total()
		again := put()
		ac := again.BlobStoreResult.AlreadyCertified
		if first.BlobStoreResult.NewlyCreated == nil || ac == nil || ac.Object == nil ||
			*ac.Object != first.BlobStoreResult.NewlyCreated.BlobObject.ID || total() != before ||
			fmt.Sprint(again.StoredQuiltBlobs) != fmt.Sprint(first.StoredQuiltBlobs) {
			t.Fatalf("the same quilt again: %+v, first %+v", again, first)
		}
	})

	// force=true and a longer lifetime store (and pay) anew.
	body := randomBytes(1000, 32)
	first := putBlob(t, pub, "", body)
	for _, q := range []string{"?force=true", "?epochs=5"} {
		before := total()
		again := putBlob(t, pub, q, body)
		if again.NewlyCreated == nil || again.NewlyCreated.BlobObject.ID == first.NewlyCreated.BlobObject.ID || total() >= before {
			t.Fatalf("PUT%s: want a new paid store, got %+v", q, again)
		}
	}
}
