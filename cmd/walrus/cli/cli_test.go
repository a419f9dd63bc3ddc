package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

func writeFile(t *testing.T, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blob.bin")
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBlobID(t *testing.T) {
	f := writeFile(t, []byte("walrus blob id v1 regression test"))
	out, errOut, code := run(t, "blob-id", f, "--n-shards", "10")
	if code != 0 || out != "RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY\n" || errOut != "" {
		t.Fatalf("code %d out %q err %q", code, out, errOut)
	}
	out, _, code = run(t, "blob-id", f, "--n-shards", "10", "--json")
	var j map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil {
		t.Fatalf("json: %d %q", code, out)
	}
	if j["blobId"] != "RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY" || j["unencodedLength"] != float64(33) || j["file"] != f || j["encodingType"] != "RS2" {
		t.Fatalf("json fields %v", j)
	}
	// The default shard count is Mainnet's 1000 (Walrus docs vector).
	out, _, code = run(t, "blob-id", writeFile(t, []byte("some other string")))
	if code != 0 || strings.TrimSpace(out) != "M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk" {
		t.Fatalf("default n: %d %q", code, out)
	}
}

func TestBlobIDErrors(t *testing.T) {
	small := writeFile(t, []byte("x"))
	big := writeFile(t, make([]byte, 2*3*65534+1)) // k_p·k_s·65534 + 1 at n = 4
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"blob-id", filepath.Join(t.TempDir(), "missing")}, "no such file"},
		{[]string{"blob-id", small, "--n-shards", "3"}, "unsupported number of shards"},
		{[]string{"blob-id", small, "--n-shards", "70000"}, "unsupported number of shards"},
		{[]string{"blob-id", big, "--n-shards", "4"}, "too large"},
		{[]string{"blob-id"}, "accepts 1 arg"},
		{[]string{"convert-blob-id", "12x"}, "invalid blob ID"},
	} {
		out, errOut, code := run(t, c.args...)
		if code == 0 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "walrus: ") {
			t.Errorf("%v: code %d out %q err %q", c.args, code, out, errOut)
		}
	}
}

func TestConvertBlobID(t *testing.T) {
	const dec = "32047538705383907710745794627166216794695117628018721399077707816295890470213"
	out, _, code := run(t, "convert-blob-id", dec)
	if code != 0 || out != "RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY\n" {
		t.Fatalf("%d %q", code, out)
	}
	out, _, code = run(t, "convert-blob-id", dec, "--json")
	if code != 0 || strings.TrimSpace(out) != `"RcU82Mwf-CFkv1LaI_2qcpANwpGUuG3TMwnVzZxD2kY"` {
		t.Fatalf("json %d %q", code, out)
	}
}

func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-V"} {
		out, errOut, code := run(t, flag)
		if code != 0 || !strings.HasPrefix(out, "walrus ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%s: code %d, stdout %q, stderr %q", flag, code, out, errOut)
		}
	}
}
