package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreDefaultEpochs: a store without a lifetime flag uses the
// configuration's default_epochs and says so on stderr (not with --json).
func TestStoreDefaultEpochs(t *testing.T) {
	_, cfg := startNetwork(t)
	hello := writeFile(t, []byte("hello default epochs"))
	for _, cmd := range [][]string{{"store", hello}, {"store-quilt", "--paths", hello}} {
		out, errOut, code := run(t, append([]string{"--config", cfg}, cmd...)...)
		if code != 0 || !strings.Contains(errOut, "using default_epochs 1 from the configuration") || !strings.Contains(out, "Expiry epoch (exclusive): 2") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", cmd, code, out, errOut)
		}
		_, errOut, code = run(t, append([]string{"--config", cfg, "--json"}, cmd...)...)
		if code != 0 || strings.Contains(errOut, "default_epochs") {
			t.Errorf("%v --json: exit %d, stderr %q", cmd, code, errOut)
		}
	}
}

// TestDeleteNotOwned: deleting a blob of another wallet is the same by
// blob ID, by file and by object ID: nothing deleted, noBlobFound, exit 0.
// The owner's delete and burn count their objects in English.
func TestDeleteNotOwned(t *testing.T) {
	_, cfg := startNetwork(t)
	dir := t.TempDir()
	other := filepath.Join(dir, "other.json")
	runOK(t, "generate-wallet", "--path", other)
	runOK(t, "--config", cfg, "--wallet", other, "get-wal", "--amount", "5000000000")
	hello := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(hello, []byte("not yours"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stored []struct {
		BlobStoreResult obj `json:"blobStoreResult"`
	}
	runJSON(t, &stored, "--config", cfg, "--wallet", other, "store", "--epochs", "2", hello)
	bo := stored[0].BlobStoreResult["newlyCreated"].(obj)["blobObject"].(obj)
	for _, by := range [][]string{{"--blob-ids", bo["blobId"].(string)}, {"--object-ids", bo["id"].(string)}, {"--files", hello}} {
		args := append([]string{"--config", cfg, "delete", "--yes"}, by...)
		out, errOut, code := run(t, args...)
		if code != 0 || !strings.Contains(out, "No owned deletable blob found") {
			t.Errorf("delete %v: exit %d, stdout %q, stderr %q", by, code, out, errOut)
		}
		var del []obj
		runJSON(t, &del, args...)
		if len(del) != 1 || del[0]["noBlobFound"] != true || del[0]["error"] != nil || len(del[0]["deletedBlobs"].([]any)) != 0 {
			t.Errorf("delete %v --json: %v", by, del)
		}
	}
	// The owner can still delete it, and the messages count in English.
	out := runOK(t, "--config", cfg, "--wallet", other, "delete", "--yes", "--object-ids", bo["id"].(string))
	if !strings.Contains(out, "Deleted 1 blob object of object ") {
		t.Errorf("owner's delete: %q", out)
	}
	runJSON(t, &stored, "--config", cfg, "--wallet", other, "store", "--epochs", "2", writeFile(t, []byte("burn me")))
	burned := stored[0].BlobStoreResult["newlyCreated"].(obj)["blobObject"].(obj)["id"].(string)
	if out := runOK(t, "--config", cfg, "--wallet", other, "burn-blobs", "--yes", "--object-ids", burned); out != "Burned 1 blob object.\n" {
		t.Errorf("burn-blobs: %q", out)
	}
}
