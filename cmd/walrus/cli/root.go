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
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/bench"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/cmd/walrus/cli/devnet"
	"github.com/walrus-go/walrus/internal/buildinfo"
)

// env is what commands print to, and the global flags (package cmdenv:
// the devnet and bench sub-packages share it).
type env = cmdenv.Env

// profiling is --cpuprofile and the running profile's file.
type profiling struct {
	path string
	file *os.File
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
	e := &env{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	prof := &profiling{}
	root := newRoot(e, prof)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if prof.file != nil {
		pprof.StopCPUProfile()
		prof.file.Close()
	}
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(stderr, "walrus: %s%s\n", msg, faucetHint(e, err))
		return 1
	}
	return 0
}

// faucetHint is, for a lack of WAL on a network with a faucet (a devnet's
// configuration names its faucet_wallet), how to get some: the get-wal
// command with the global flags the failed command was given.
func faucetHint(e *env, err error) string {
	if !errors.Is(err, client.ErrInsufficientBalance) {
		return ""
	}
	cfg, _, lerr := e.LoadConfig()
	if lerr != nil || cfg.FaucetWallet == "" {
		return ""
	}
	cmd := "walrus"
	for _, f := range []struct{ name, value string }{{"--config", e.Config}, {"--context", e.Context}, {"--wallet", e.Wallet}} {
		if f.value != "" {
			cmd += " " + f.name + " " + f.value
		}
	}
	return "; this network has a faucet: get WAL with " + cmd + " get-wal"
}

func newRoot(e *env, prof *profiling) *cobra.Command {
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
	pf.BoolVar(&e.JSON, "json", false, "print results as JSON")
	pf.StringVar(&e.Config, "config", "", "client_config.yaml (default: ./client_config.yaml|yml, $XDG_CONFIG_HOME/walrus/, ~/.config/walrus/, ~/.walrus/)")
	pf.StringVar(&e.Context, "context", "", "context of the configuration (default: its default_context)")
	pf.StringVar(&e.Wallet, "wallet", "", "wallet file, a Sui keystore (default: the configuration's wallet_config.path)")
	pf.StringVar(&prof.path, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof reads it)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if prof.path == "" {
			return nil
		}
		f, err := os.Create(prof.path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		prof.file = f
		return nil
	}
	root.AddCommand(
		newBlobIDCmd(e),
		newConvertBlobIDCmd(e),
		bench.NewCmd(e),
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
		devnet.NewCmd(e),
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
