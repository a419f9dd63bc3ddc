package chainclient_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
)

// TestEpochChangeThroughEvents drives an epoch change end to end: the
// chain selects the next committee and starts epoch 2 by block time, each
// node reacts to EpochChangeStart from the event stream with
// epoch_sync_done, and the stream shows EpochChangeDone.
func TestEpochChangeThroughEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := newDevnet(t, 1500)
	n, c := startEmbedded(t, ctx, filepath.Join(t.TempDir(), "chain"), d.genesis)
	defer n.Stop()
	sub := c.Subscribe(chain.Cursor{})
	var seen []string
	synced := false
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", seen, err)
		}
		seen = append(seen, ev.Event.Type)
		switch ev.Event.Type {
		case chain.EventEpochChangeStart:
			e, err := chain.ParseEpochEvent(ev.Event.Data)
			if err != nil || e.Epoch != 2 || synced {
				t.Fatalf("EpochChangeStart %+v %v", e, err)
			}
			pools, err := c.Pools(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, op := range d.ops {
				var node ids.ObjectID
				for _, p := range pools {
					if p.Pool.Operator == addr(op) {
						node = p.Pool.ID
					}
				}
				if _, err := c.Execute(ctx, chainclient.NewSigner(op), &chain.EpochSyncDone{Node: chain.Ref(node), Epoch: 2}); err != nil {
					// The fourth report may come after the change is done.
					if i < 3 {
						t.Fatal(err)
					}
				}
			}
			synced = true
		case chain.EventEpochChangeDone:
			e, _ := chain.ParseEpochEvent(ev.Event.Data)
			if e.Epoch != 2 {
				t.Fatalf("EpochChangeDone for %d", e.Epoch)
			}
			want := []string{chain.EventEpochParametersSelected, chain.EventEpochChangeStart, chain.EventShardsReceived, chain.EventShardsReceived, chain.EventShardsReceived}
			for i, w := range want {
				if i >= len(seen) || seen[i] != w {
					t.Fatalf("events %v, want to start with %v", seen, want)
				}
			}
			s, err := c.System(ctx)
			if err != nil || s.Epoch < 2 || s.Epoch == 2 && s.State == chain.EpochChangeSync {
				t.Fatalf("system after change: %+v %v", s, err)
			}
			return
		}
	}
}
