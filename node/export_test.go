package node

import (
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/nodeapi"
)

// CatchUpBlocks is catchUpBlocks, for the tests of package node_test.
const CatchUpBlocks = catchUpBlocks

// LockBlobForTest takes the lock that the handlers of blob id's events
// take, so that a test can hold the event follower at an event of that
// blob; the returned function releases it.
func (n *Node) LockBlobForTest(id blob.ID) (unlock func()) {
	mu := n.locks.of(id)
	mu.Lock()
	return mu.Unlock
}

// PeerForTest is the node's client of the peer at address, as recovery and
// the inconsistency flow reach it (pinned to the key the chain registered).
func (n *Node) PeerForTest(address string) (*nodeapi.Client, error) { return n.peers.Get(address) }
