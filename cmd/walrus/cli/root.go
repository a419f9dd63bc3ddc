// Package cli implements the walrus command line: one file per command,
// data on stdout, talk and errors on stderr, and a stable --json form of
// every command that prints results (Walrus's JSON shapes, see package
// client). Errors are one line, "walrus: …", with exit code 1.
//
// Commands that talk to a network read a client_config.yaml: --config, or
// the first of ./client_config.yaml|yml, $XDG_CONFIG_HOME/walrus/,
// ~/.config/walrus/, ~/.walrus/ (Walrus's search order). The wallet is
// --wallet, else the config's wallet_config.path.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/internal/buildinfo"
)

// env is what commands print to, and the global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
	config         string // --config
	context        string // --context
	wallet         string // --wallet
	// statusTimeout overrides the configuration's (blob-status --timeout).
	statusTimeout time.Duration
	cpuProfile    string   // --cpuprofile
	profile       *os.File // the running CPU profile's file
}

// printJSON writes v as indented JSON on stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// say writes talk to stderr (never in the way of data on stdout).
func (e *env) say(format string, args ...any) {
	fmt.Fprintf(e.stderr, format+"\n", args...)
}

// Run executes the command line args and returns the process exit code.
// Errors are printed as one line on stderr. SIGINT and SIGTERM cancel the
// command's context.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, args, stdin, stdout, stderr)
}

// RunContext is Run with a context of the caller's.
func RunContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if e.profile != nil {
		pprof.StopCPUProfile()
		e.profile.Close()
	}
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(stderr, "walrus: %s\n", msg)
		return 1
	}
	return 0
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "walrus",
		Short:         "Walrus in Go: decentralized storage for large blobs",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Version(),
	}
	// -V, --version as Walrus's CLI has them (cobra's own shorthand is -v).
	root.Flags().BoolP("version", "V", false, "print the version")
	root.SetVersionTemplate("walrus {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.BoolVar(&e.json, "json", false, "print results as JSON")
	pf.StringVar(&e.config, "config", "", "client_config.yaml (default: ./client_config.yaml|yml, $XDG_CONFIG_HOME/walrus/, ~/.config/walrus/, ~/.walrus/)")
	pf.StringVar(&e.context, "context", "", "context of the configuration (default: its default_context)")
	pf.StringVar(&e.wallet, "wallet", "", "wallet file, a Sui keystore (default: the configuration's wallet_config.path)")
	pf.StringVar(&e.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof reads it)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if e.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(e.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		e.profile = f
		return nil
	}
	root.AddCommand(
		newBlobIDCmd(e),
		newConvertBlobIDCmd(e),
		newBenchCmd(e),
		newStoreCmd(e),
		newReadCmd(e),
		newBlobStatusCmd(e),
		newListBlobsCmd(e),
		newDeleteCmd(e),
		newExtendCmd(e),
		newShareCmd(e),
		newFundSharedBlobCmd(e),
		newBurnBlobsCmd(e),
		newGetBlobAttributeCmd(e),
		newSetBlobAttributeCmd(e),
		newRemoveBlobAttributeFieldsCmd(e),
		newRemoveBlobAttributeCmd(e),
		newInfoCmd(e),
		newHealthCmd(e),
		newStakeCmd(e),
		newRequestWithdrawStakeCmd(e),
		newWithdrawStakeCmd(e),
		newListStakedWalCmd(e),
		newGenerateWalletCmd(e),
		newGetWalCmd(e),
		newBalanceCmd(e),
		newNodeAdminCmd(e),
		newDevnetCmd(e),
		newAggregatorCmd(e),
		newPublisherCmd(e),
		newDaemonCmd(e),
		newStoreQuiltCmd(e),
		newReadQuiltCmd(e),
		newListPatchesCmd(e),
		newNodeCmd(e),
	)
	return root
}
