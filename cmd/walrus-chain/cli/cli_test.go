package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
)

func TestInitAndRunWithStorageNodes(t *testing.T) {
	home := t.TempDir()
	var out, errb bytes.Buffer
	code := Run([]string{"init", "--home", home, "--chain-id", "walrus-cli", "--storage-nodes", "4", "--n-shards", "10",
		"--epoch-duration", "1h", "--timeout-commit", "50ms", "--empty-blocks-interval", "200ms",
		"--account", "0x" + string(bytes.Repeat([]byte("ab"), 32)) + "=5000"}, &out, &errb)
	if code != 0 {
		t.Fatalf("init: %s", errb.String())
	}
	if code := Run([]string{"init", "--home", home, "--account", "nope"}, &out, &errb); code == 0 {
		t.Fatal("bad --account accepted")
	}
	n, err := abci.Start(context.Background(), abci.NodeConfig{Home: home, RPCListen: "auto", P2PListen: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	c, err := chainclient.Dial(context.Background(), chainclient.Config{RPC: n.RPCAddress(), ChainID: "walrus-cli"})
	if err != nil {
		t.Fatal(err)
	}
	var com *chain.CommitteeInfo
	for deadline := time.Now().Add(10 * time.Second); ; {
		com, err = c.Committee(context.Background(), "current")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || com.Epoch != 1 || len(com.Members) != 4 {
		t.Fatalf("committee %+v %v", com, err)
	}
	for i := range 4 {
		b, err := os.ReadFile(filepath.Join(home, "storage-nodes", "node-"+string(rune('0'+i))+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var id StorageNodeIdentity
		if err := json.Unmarshal(b, &id); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range com.Members {
			found = found || m.NodeID == id.NodeID
		}
		if !found {
			t.Errorf("storage node %d (%s) is not in the committee", i, id.NodeID)
		}
	}
	a, err := c.Account(context.Background(), ids.Address(bytes.Repeat([]byte{0xab}, 32)))
	if err != nil || a.Balance != 5000 {
		t.Fatalf("account %+v %v", a, err)
	}
}
