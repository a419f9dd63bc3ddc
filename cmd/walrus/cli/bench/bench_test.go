package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
)

// run executes `walrus bench ARGS` and returns its stdout, stderr and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &cmdenv.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
	cmd := NewCmd(e)
	cmd.PersistentFlags().BoolVar(&e.JSON, "json", false, "")
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if err := cmd.Execute(); err != nil {
		errOut.WriteString(err.Error())
		return out.String(), errOut.String(), 1
	}
	return out.String(), errOut.String(), 0
}

func TestBenchJSON(t *testing.T) {
	for _, op := range []string{"encode", "decode"} {
		out, _, code := run(t, op, "--n-shards", "10", "--size", "1B,100KiB", "--runs", "2", "--json")
		var res []benchResult
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 2 {
			t.Fatalf("%s: %d %q", op, code, out)
		}
		if res[1].Size != 100<<10 || len(res[1].Seconds) != 2 || res[1].SecondsMin <= 0 || res[1].BlobID == "" {
			t.Fatalf("%s: %+v", op, res[1])
		}
	}
	if _, errOut, code := run(t, "encode", "--size", "12QB"); code == 0 || !strings.Contains(errOut, "invalid size") {
		t.Fatalf("bad size: %d %q", code, errOut)
	}
}
