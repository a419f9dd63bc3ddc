package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a buffer written by one goroutine and read by another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestQuiltCommands: store-quilt, list-patches-in-quilt and read-quilt
// against a network, in JSON, to a directory and to stdout; and bad input.
func TestQuiltCommands(t *testing.T) {
	_, cfg := startNetwork(t)
	dir := t.TempDir()
	files := map[string]string{"a.txt": "alpha", "b.txt": "bravo", "sub/c.txt": "charlie"}
	for name, data := range files {
		p := filepath.Join(dir, "in", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	extra := filepath.Join(dir, "extra.bin")
	os.WriteFile(extra, []byte("delta"), 0o644)
	var res struct {
		BlobStoreResult  obj `json:"blobStoreResult"`
		StoredQuiltBlobs []struct {
			Identifier   string `json:"identifier"`
			QuiltPatchID string `json:"quiltPatchId"`
		} `json:"storedQuiltBlobs"`
	}
	runJSON(t, &res, "--config", cfg, "store-quilt", "--epochs", "2", "--paths", filepath.Join(dir, "in"),
		"--blobs", `{"path":"`+extra+`","identifier":"d/extra","tags":{"kind":"x"}}`)
	nc, ok := res.BlobStoreResult["newlyCreated"].(obj)
	if !ok || len(res.StoredQuiltBlobs) != 4 {
		t.Fatalf("store-quilt: %+v", res)
	}
	qid := nc["blobObject"].(obj)["blobId"].(string)

	var list []struct {
		Identifier string            `json:"identifier"`
		PatchID    string            `json:"patch_id"`
		Tags       map[string]string `json:"tags"`
	}
	runJSON(t, &list, "--config", cfg, "list-patches-in-quilt", qid)
	if len(list) != 4 || list[0].Identifier != "a.txt" || list[3].Identifier != "d/extra" || list[3].Tags["kind"] != "x" {
		t.Fatalf("list: %+v", list)
	}
	if out := runOK(t, "--config", cfg, "read-quilt", "--quilt-id", qid, "--identifiers", "b.txt"); out != "bravo" {
		t.Fatalf("read-quilt to stdout: %q", out)
	}
	var read struct {
		RetrievedBlobs []struct {
			Identifier string `json:"identifier"`
			Blob       []byte `json:"blob"`
		} `json:"retrievedBlobs"`
	}
	runJSON(t, &read, "--config", cfg, "read-quilt", "--quilt-patch-ids", list[2].PatchID+","+list[3].PatchID)
	if len(read.RetrievedBlobs) != 2 || string(read.RetrievedBlobs[0].Blob) != "charlie" || string(read.RetrievedBlobs[1].Blob) != "delta" {
		t.Fatalf("read-quilt by patch IDs: %+v", read)
	}
	runJSON(t, &read, "--config", cfg, "read-quilt", "--quilt-id", qid, "--tag", "kind", "--value", "x")
	if len(read.RetrievedBlobs) != 1 || read.RetrievedBlobs[0].Identifier != "d/extra" {
		t.Fatalf("read-quilt by tag: %+v", read)
	}
	out := filepath.Join(dir, "out")
	runOK(t, "--config", cfg, "read-quilt", "--quilt-id", qid, "--out", out)
	if b, err := os.ReadFile(filepath.Join(out, "d", "extra")); err != nil || string(b) != "delta" {
		t.Fatalf("read-quilt --out: %q %v", b, err)
	}
	for _, args := range [][]string{
		{"store-quilt", "--epochs", "1"},
		{"store-quilt", "--epochs", "1", "--blobs", "{nope"},
		{"read-quilt"},
		{"read-quilt", "--quilt-id", qid, "--tag", "k"},
		{"read-quilt", "--quilt-id", qid, "--identifiers", "missing"},
		{"read-quilt", "--quilt-id", qid},
		{"list-patches-in-quilt", "not-an-id"},
	} {
		_, errOut, code := run(t, append([]string{"--config", cfg}, args...)...)
		if code != 1 || !strings.HasPrefix(errOut, "walrus: ") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("walrus %v: exit %d, %q", args, code, errOut)
		}
	}
}

// TestDaemonCommand: walrus daemon serves the HTTP API until its context
// ends, and prints its addresses with --json.
func TestDaemonCommand(t *testing.T) {
	_, cfg := startNetwork(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- RunContext(ctx, []string{"--config", cfg, "daemon", "--bind-address", "127.0.0.1:0", "--metrics-address", "off",
			"--n-clients", "2", "--sub-wallets-dir", t.TempDir(), "--json"}, strings.NewReader(""), &stdout, &stderr)
	}()
	var info serviceInfo
	deadline := time.Now().Add(time.Minute)
	for json.Unmarshal([]byte(stdout.String()), &info) != nil {
		select {
		case code := <-done:
			t.Fatalf("daemon exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address printed: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !info.Aggregator || !info.Publisher || info.MetricsAddress != "" {
		t.Fatalf("info %+v", info)
	}
	resp, err := http.Post("http://"+info.Address+"/v1/blobs", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" { // POST is not a method of the route
		t.Fatalf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	req, _ := http.NewRequest("PUT", "http://"+info.Address+"/v1/blobs", strings.NewReader("via the daemon command"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		NewlyCreated struct {
			BlobObject struct {
				BlobID string `json:"blobId"`
			} `json:"blobObject"`
		} `json:"newlyCreated"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &res) != nil {
		t.Fatalf("PUT: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get("http://" + info.Address + "/v1/blobs/" + res.NewlyCreated.BlobObject.BlobID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "via the daemon command" {
		t.Fatalf("GET: %d %q", resp.StatusCode, b)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the daemon did not stop")
	}
	// A bad flag is a one-line error.
	_, errOut, code := run(t, "--config", cfg, "aggregator", "--bind-address", "nope", "--metrics-address", "off")
	if code != 1 || !strings.Contains(errOut, "bind address") {
		t.Fatalf("bad bind address: %d %q", code, errOut)
	}
}
