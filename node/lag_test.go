package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/nodeapi"
)

// eventLag reads node i's walrus_node_event_lag_blocks gauge.
func eventLag(t *testing.T, net *testnet.Network, i int) float64 {
	t.Helper()
	mfs, err := net.Registry(i).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "walrus_node_event_lag_blocks" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no walrus_node_event_lag_blocks")
	return 0
}

// maxIdleLag is the most event lag, in blocks, allowed of a node that has
// handled every event: its follower polls the chain every 50 ms, and the
// test network's chain makes a block every 60–70 ms (its commit timeout is
// 50 ms, and it makes blocks without transactions too), so a node that
// keeps up is a block or two behind at most; half the catch-up threshold
// leaves room for a loaded machine.
const maxIdleLag = node.CatchUpBlocks / 2

// TestEventLag: on an idle chain (no events for more blocks than the
// catch-up threshold, which the test network's chain makes in about 1.5 s)
// a node that has handled every event is Active with an event lag near 0,
// although its last event is far below the chain's height. A node
// held at an event it has not handled yet reports the lag and
// RecoveryCatchUp while the chain moves on, and is Active again with no
// lag once it handled it.
func TestEventLag(t *testing.T) {
	net := testnet.Start(t, testnet.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	health := func(i int) *nodeapi.HealthInfo {
		t.Helper()
		h, err := net.API(i).Health(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	// Idle: wait until the chain is well past the last event.
	var h *nodeapi.HealthInfo
	eventually(t, time.Minute, "the chain moving past the last event", func() error {
		h = health(0)
		if chainH, last := *h.LatestCheckpointSequenceNumber, *h.EventProgress.HighestFinishedEventIndex; chainH <= last+node.CatchUpBlocks+5 {
			return fmt.Errorf("chain at %d, last event at %d", chainH, last)
		}
		return nil
	})
	t.Logf("idle: chain at %d, last event at %d, status %s", *h.LatestCheckpointSequenceNumber, *h.EventProgress.HighestFinishedEventIndex, h.NodeStatus)
	if h.NodeStatus != nodeapi.NodeStatusActive {
		t.Errorf("idle: node status %s at chain height %d, last event at %d; want %s",
			h.NodeStatus, *h.LatestCheckpointSequenceNumber, *h.EventProgress.HighestFinishedEventIndex, nodeapi.NodeStatusActive)
	}
	if lag := eventLag(t, net, 0); lag > maxIdleLag {
		t.Errorf("idle: event lag %v blocks, want at most %d", lag, maxIdleLag)
	}

	// Behind: node 0 cannot handle the registration of a blob, the others
	// can.
	x, err := sdkinternal.Encoder(net.Client).Encode(randomBytes(2000, 9))
	if err != nil {
		t.Fatal(err)
	}
	id := x.Metadata.ID
	unlock := net.Node(0).LockBlobForTest(id)
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	size, _ := net.Client.Params().EncodedLength(x.Metadata.UnencodedLength)
	res, err := net.Chain.Execute(ctx, net.Signer, &chain.ReserveSpace{EncodedSize: size, EpochsAhead: 2},
		&chain.RegisterBlob{Storage: chain.CreatedRef(0), BlobID: id, RootHash: x.Metadata.Root(), Size: x.Metadata.UnencodedLength, EncodingType: 1})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "node 0 reporting that it is behind", func() error {
		h = health(0)
		if lag := eventLag(t, net, 0); h.NodeStatus != nodeapi.NodeStatusRecoveryCatchUp || lag <= node.CatchUpBlocks {
			return fmt.Errorf("node status %s, event lag %v blocks, chain at %d, registration at %d",
				h.NodeStatus, lag, *h.LatestCheckpointSequenceNumber, res.Height)
		}
		return nil
	})
	t.Logf("behind: node 0 %s at chain height %d, registration at %d", h.NodeStatus, *h.LatestCheckpointSequenceNumber, res.Height)
	if s := health(1).NodeStatus; s != nodeapi.NodeStatusActive {
		t.Errorf("node 1, which handled the registration: status %s", s)
	}
	if lag := eventLag(t, net, 1); lag > maxIdleLag {
		t.Errorf("node 1, which handled the registration: event lag %v blocks", lag)
	}

	// Released, node 0 handles the event and catches up.
	unlock()
	locked = false
	eventually(t, 30*time.Second, "node 0 caught up", func() error {
		h = health(0)
		if lag := eventLag(t, net, 0); h.NodeStatus != nodeapi.NodeStatusActive || lag > maxIdleLag {
			return fmt.Errorf("node status %s, event lag %v blocks", h.NodeStatus, lag)
		}
		return nil
	})
}
