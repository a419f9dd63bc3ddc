package devnet

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/wallet"
)

// TestReadyBanner: the banner shows the wallet's balance as the chain has
// it when the devnet is ready, not the genesis amount.
func TestReadyBanner(t *testing.T) {
	net := testnet.Start(t, testnet.Config{ChainID: ChainID})
	ctx := context.Background()
	if err := net.Client.Transfer(ctx, wallet.Address(testnet.Key("someone else")), 123_456*1_000_000_000); err != nil {
		t.Fatal(err)
	}
	bal, err := net.Client.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := &devnetDir{dir: t.TempDir(), user: net.User}
	var errOut bytes.Buffer
	e := &cmdenv.Env{Stdout: &bytes.Buffer{}, Stderr: &errOut}
	info, err := d.info(ctx, net, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	printDevnetReady(e, info, 0, false)
	if want := "holds " + cmdenv.Frost(bal); !strings.Contains(errOut.String(), want) || strings.Contains(errOut.String(), "1,000,000 WAL") {
		t.Fatalf("banner without %q:\n%s", want, errOut.String())
	}
}

// TestLogLevelFlag: devnet.log keeps warnings and errors unless
// --log-level says otherwise; an unknown level is refused before
// anything starts.
func TestLogLevelFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want slog.Level
		err  string
	}{
		{nil, slog.LevelWarn, ""},
		{[]string{"--log-level", "debug"}, slog.LevelDebug, ""},
		{[]string{"--log-level", "INFO"}, slog.LevelInfo, ""},
		{[]string{"--log-level", "warn"}, slog.LevelWarn, ""},
		{[]string{"--log-level", "error"}, slog.LevelError, ""},
		{[]string{"--log-level", "loud"}, 0, `invalid argument "loud" for "--log-level" flag: want debug, info, warn or error`},
		{[]string{"--log-level", "warning"}, 0, "want debug, info, warn or error"},
	} {
		e := &cmdenv.Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
		cmd, f := newCmd(e)
		// --nodes 0 stops the devnet before it touches a directory.
		cmd.SetArgs(append(c.args, "--nodes", "0", "--dir", filepath.Join(t.TempDir(), "dn")))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "--nodes and --shards must be positive") || slog.Level(f.logLevel) != c.want {
			t.Errorf("%v: level %v (%v), want %v", c.args, slog.Level(f.logLevel), err, c.want)
		}
	}
}
