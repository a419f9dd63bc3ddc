package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/cmd/walrus/cli/devnet"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/wallet"
)

// startNetwork runs a test network and writes, in a temporary directory, a
// client_config.yaml and the funded wallet for it. It returns the
// configuration's path.
func startNetwork(t *testing.T) (*testnet.Network, string) {
	t.Helper()
	net := testnet.Start(t, testnet.Config{ChainID: devnet.ChainID})
	dir := t.TempDir()
	if err := wallet.Write(filepath.Join(dir, "wallet.json"), net.User); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "client_config.yaml")
	if err := devnet.WriteClientConfig(cfg, net.ChainRPC()); err != nil {
		t.Fatal(err)
	}
	return net, cfg
}

// runOK runs a command that must succeed and returns its stdout.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("walrus %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// runJSON runs a command with --json and decodes its output.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := runOK(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("walrus %s --json: %v: %q", strings.Join(args, " "), err, out)
	}
}

type obj = map[string]any

// TestCLIRoundTrip: the CLI against a network, in Walrus's JSON shapes:
// store several files, read them back (to a file, to stdout, as JSON),
// status, list, attributes, extend, share and fund, delete, info, health,
// staking, wallets and the faucet, and blob-id with the network's n.
func TestCLIRoundTrip(t *testing.T) {
	net, cfg := startNetwork(t)
	dir := t.TempDir()
	files := map[string][]byte{"empty.bin": {}, "hello.txt": []byte("hello walrus\n"), "big.bin": bytes.Repeat([]byte("0123456789abcdef"), 40_000)}
	var paths []string
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var stored []struct {
		BlobStoreResult obj    `json:"blobStoreResult"`
		Path            string `json:"path"`
	}
	runJSON(t, &stored, append([]string{"--config", cfg, "store", "--epochs", "3"}, paths...)...)
	if len(stored) != 3 {
		t.Fatalf("%d results", len(stored))
	}
	ids := map[string]string{}
	objIDs := map[string]string{}
	for i, r := range stored {
		nc, ok := r.BlobStoreResult["newlyCreated"].(obj)
		if !ok || r.Path != paths[i] {
			t.Fatalf("result %d: %v", i, r)
		}
		bo := nc["blobObject"].(obj)
		if bo["deletable"] != true || bo["encodingType"] != "RS2" || bo["certifiedEpoch"] == nil || nc["cost"].(float64) <= 0 ||
			nc["resourceOperation"].(obj)["registerFromScratch"].(obj)["epochsAhead"] != float64(3) || bo["storage"].(obj)["storageSize"].(float64) <= 0 {
			t.Fatalf("result %d: %v", i, nc)
		}
		ids[filepath.Base(r.Path)] = bo["blobId"].(string)
		objIDs[filepath.Base(r.Path)] = bo["id"].(string)
	}
	// Read back: to a file, to stdout, as JSON (base64).
	out := filepath.Join(dir, "big.out")
	runOK(t, "--config", cfg, "read", ids["big.bin"], "--out", out)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, files["big.bin"]) {
		t.Fatal("read --out differs")
	}
	if got := runOK(t, "--config", cfg, "read", ids["hello.txt"]); got != string(files["hello.txt"]) {
		t.Fatalf("read to stdout: %q", got)
	}
	var ro struct {
		BlobID string `json:"blobId"`
		Blob   []byte `json:"blob"`
	}
	runJSON(t, &ro, "--config", cfg, "read", ids["hello.txt"], "--strict-consistency-check")
	if ro.BlobID != ids["hello.txt"] || !bytes.Equal(ro.Blob, files["hello.txt"]) {
		t.Fatalf("read --json: %+v", ro)
	}
	if got := runOK(t, "--config", cfg, "read", ids["empty.bin"], "--skip-consistency-check"); got != "" {
		t.Fatalf("empty blob: %q", got)
	}
	// Status by ID and by file.
	var st obj
	runJSON(t, &st, "--config", cfg, "blob-status", "--file", paths[0])
	if st["blobId"] != ids[filepath.Base(paths[0])] || st["status"].(obj)["deletable"] == nil {
		t.Fatalf("blob-status: %v", st)
	}
	// A permanent store of the same bytes, then again: alreadyCertified.
	runOK(t, "--config", cfg, "store", "--epochs", "2", "--permanent", filepath.Join(dir, "hello.txt"))
	var again []struct {
		BlobStoreResult obj `json:"blobStoreResult"`
	}
	runJSON(t, &again, "--config", cfg, "store", "--epochs", "1", "--permanent", filepath.Join(dir, "hello.txt"))
	if again[0].BlobStoreResult["alreadyCertified"] == nil {
		t.Fatalf("second permanent store: %v", again)
	}
	var list []obj
	runJSON(t, &list, "--config", cfg, "list-blobs")
	if len(list) != 4 {
		t.Fatalf("list-blobs: %d", len(list))
	}
	// Attributes.
	hello := objIDs["hello.txt"]
	runOK(t, "--config", cfg, "set-blob-attribute", hello, "--attr", "content-type", "text/plain", "--attr", "lang", "en")
	var attr struct {
		Attribute map[string]string `json:"attribute"`
	}
	runJSON(t, &attr, "--config", cfg, "get-blob-attribute", hello)
	if attr.Attribute["content-type"] != "text/plain" || attr.Attribute["lang"] != "en" {
		t.Fatalf("attributes %v", attr)
	}
	runOK(t, "--config", cfg, "remove-blob-attribute-fields", hello, "--keys", "lang")
	attr.Attribute = nil
	runJSON(t, &attr, "--config", cfg, "get-blob-attribute", hello)
	if len(attr.Attribute) != 1 {
		t.Fatalf("after removing a field: %v", attr)
	}
	runOK(t, "--config", cfg, "remove-blob-attribute", hello)
	attr.Attribute = nil
	runJSON(t, &attr, "--config", cfg, "get-blob-attribute", hello)
	if attr.Attribute != nil {
		t.Fatalf("after removing all: %v", attr)
	}
	// Extend, share, fund, extend shared.
	var ext obj
	runJSON(t, &ext, "--config", cfg, "extend", "--blob-obj-id", hello, "--epochs-extended", "2")
	if ext["epochsExtended"] != float64(2) {
		t.Fatalf("extend: %v", ext)
	}
	var sh obj
	runJSON(t, &sh, "--config", cfg, "share", "--blob-obj-id", objIDs["big.bin"], "--amount", "1000000")
	shared, _ := sh["sharedBlobObjectId"].(string)
	if shared == "" || sh["amount"] != float64(1_000_000) {
		t.Fatalf("share: %v", sh)
	}
	runOK(t, "--config", cfg, "fund-shared-blob", "--shared-blob-obj-id", shared, "--amount", "5000000")
	runOK(t, "--config", cfg, "extend", "--blob-obj-id", shared, "--shared", "--epochs-extended", "1")
	// Delete by blob ID; the status reflects it.
	var del []obj
	runJSON(t, &del, "--config", cfg, "delete", "--blob-ids", ids["empty.bin"], "--yes")
	if len(del) != 1 || len(del[0]["deletedBlobs"].([]any)) != 1 || del[0]["noBlobFound"] != false {
		t.Fatalf("delete: %v", del)
	}
	runJSON(t, &del, "--config", cfg, "delete", "--blob-ids", ids["empty.bin"], "--yes")
	if del[0]["noBlobFound"] != true {
		t.Fatalf("delete again: %v", del)
	}
	// System.
	var info obj
	runJSON(t, &info, "--config", cfg, "info")
	if info["storageInfo"].(obj)["nShards"] != float64(10) || info["epochInfo"].(obj)["currentEpoch"] != float64(1) {
		t.Fatalf("info: %v", info)
	}
	runJSON(t, &info, "--config", cfg, "info", "all")
	if info["committeeInfo"] == nil || info["bftInfo"].(obj)["maxFaultyShards"] != float64(3) {
		t.Fatalf("info all: %v", info)
	}
	var health struct {
		HealthInfo []obj `json:"healthInfo"`
	}
	runJSON(t, &health, "--config", cfg, "health", "--committee")
	if len(health.HealthInfo) != 4 || health.HealthInfo[0]["healthInfo"].(obj)["Ok"] == nil {
		t.Fatalf("health: %v", health)
	}
	// Staking.
	node := info["committeeInfo"].(obj)["storageNodes"].([]any)[0].(obj)["nodeId"].(string)
	var staked struct {
		StakedWal []obj `json:"stakedWal"`
	}
	runJSON(t, &staked, "--config", cfg, "stake", "--node-ids", node, "--amounts", "2000000000")
	if len(staked.StakedWal) != 1 || staked.StakedWal[0]["state"] != "Staked" {
		t.Fatalf("stake: %v", staked)
	}
	runJSON(t, &staked, "--config", cfg, "list-staked-wal")
	if len(staked.StakedWal) != 1 {
		t.Fatalf("list-staked-wal: %v", staked)
	}
	runOK(t, "--config", cfg, "withdraw-stake", "--staked-wal-id", staked.StakedWal[0]["id"].(string))
	// Operator commands with node 0's operator wallet.
	opWallet := filepath.Join(net.NodeDir(0), "wallet.json")
	opNode := ""
	for _, m := range info["committeeInfo"].(obj)["storageNodes"].([]any) {
		if m.(obj)["networkAddress"] == net.Address(0) {
			opNode = m.(obj)["nodeId"].(string)
		}
	}
	runOK(t, "--config", cfg, "--wallet", opWallet, "node-admin", "--node-id", opNode, "vote", "--write-price", "2000")
	runOK(t, "--config", cfg, "--wallet", opWallet, "node-admin", "--node-id", opNode, "set-commission", "--commission-rate", "100")
	runOK(t, "--config", cfg, "--wallet", opWallet, "node-admin", "--node-id", opNode, "collect-commission")
	// A new wallet, funded by the faucet.
	nw := filepath.Join(dir, "new", "wallet.json")
	var gen obj
	runJSON(t, &gen, "generate-sui-wallet", "--path", nw)
	var bal obj
	runJSON(t, &bal, "--config", cfg, "--wallet", nw, "balance")
	if bal["balanceFrost"] != float64(0) || bal["address"] != gen["walletAddress"] {
		t.Fatalf("new wallet: %v %v", gen, bal)
	}
	runOK(t, "--config", cfg, "--wallet", nw, "get-wal", "--amount", "7000000000")
	runJSON(t, &bal, "--config", cfg, "--wallet", nw, "balance")
	if bal["balanceFrost"] != float64(7_000_000_000) {
		t.Fatalf("after get-wal: %v", bal)
	}
	runOK(t, "--config", cfg, "--wallet", nw, "store", "--epochs", "1", paths[1])
	// blob-id takes n from the network.
	var bid obj
	runJSON(t, &bid, "--config", cfg, "blob-id", filepath.Join(dir, "hello.txt"))
	if bid["blobId"] != ids["hello.txt"] {
		t.Fatalf("blob-id with the network's n: %v, stored as %s", bid, ids["hello.txt"])
	}
	// Dry run: the cost, nothing stored.
	var dry []obj
	runJSON(t, &dry, "--config", cfg, "store", "--dry-run", "--epochs", "2", filepath.Join(dir, "big.bin"))
	if dry[0]["blobId"] != ids["big.bin"] || dry[0]["storageCost"].(float64) <= 0 {
		t.Fatalf("dry run: %v", dry)
	}
}

// TestCLIErrors: bad input gives one clear line on stderr and exit 1.
func TestCLIErrors(t *testing.T) {
	_, cfg := startNetwork(t)
	dir := t.TempDir()
	poor := filepath.Join(dir, "poor.json")
	runOK(t, "generate-wallet", "--path", poor)
	hello := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(hello, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", cfg, "read", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}, "blob not found"},
		{[]string{"--config", cfg, "read", "not-a-blob-id"}, "invalid blob ID"},
		{[]string{"--config", cfg, "blob-status", "--blob-id", "xyz"}, "invalid blob ID"},
		{[]string{"--config", cfg, "store", "--epochs", "1", filepath.Join(dir, "missing.txt")}, "no such file"},
		{[]string{"--config", cfg, "--wallet", poor, "store", "--epochs", "1", hello}, "insufficient WAL balance"},
		{[]string{"--config", cfg, "store", hello, "--epochs", "0"}, "invalid --epochs"},
		{[]string{"--config", cfg, "store", hello, "--epochs", "1", "--end-epoch", "5"}, "only one of"},
		{[]string{"--config", cfg, "store", hello, "--epochs", "99"}, "at most 53 epochs"},
		{[]string{"--config", cfg, "store", hello, "--end-epoch", "0"}, "--end-epoch must be after the current epoch"},
		{[]string{"--config", cfg, "store", hello, "--earliest-expiry-time", "2001-02-03T04:05:06Z"}, "2001-02-03T04:05:06Z is in the past"},
		{[]string{"--config", cfg, "--wallet", poor, "store", "--epochs", "1", hello}, "walrus --config " + cfg + " --wallet " + poor + " get-wal"},
		{[]string{"--config", cfg, "read", "32047538705383907710745794627166216794695117628018721399077707816295890470213"}, "walrus convert-blob-id"},
		{[]string{"--config", filepath.Join(dir, "nope.yaml"), "info"}, "no such file"},
		{[]string{"--config", cfg, "--wallet", filepath.Join(dir, "nope.json"), "list-blobs"}, "no such file"},
		{[]string{"--config", cfg, "extend", "--blob-obj-id", "0x" + strings.Repeat("12", 32), "--epochs-extended", "1"}, "object not found"},
		{[]string{"--config", cfg, "extend", "--blob-obj-id", "zz", "--epochs-extended", "1"}, "invalid --blob-obj-id"},
		{[]string{"--config", cfg, "delete"}, "give --blob-ids"},
		{[]string{"--config", cfg, "info", "everything"}, "unknown info section"},
	} {
		out, errOut, code := run(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "walrus: ") {
			t.Errorf("%v: code %d out %q err %q", c.args, code, out, errOut)
		}
	}
	// The insufficient-WAL store also prints its error result in JSON.
	out, _, code := run(t, "--config", cfg, "--wallet", poor, "store", "--epochs", "1", hello, "--json")
	var res []struct {
		BlobStoreResult struct {
			Error *struct {
				BlobID       *string `json:"blobId"`
				FailurePhase string  `json:"failurePhase"`
				ErrorMsg     string  `json:"errorMsg"`
			} `json:"error"`
		} `json:"blobStoreResult"`
	}
	if code == 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 1 || res[0].BlobStoreResult.Error == nil ||
		res[0].BlobStoreResult.Error.BlobID == nil || res[0].BlobStoreResult.Error.FailurePhase != "register" {
		t.Fatalf("json error result: %d %q", code, out)
	}
}
