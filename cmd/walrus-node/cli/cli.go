// Package cli is the walrus-node command line: setup (keys and
// node_config.yaml), register (on chain, with proof of possession, and
// stake) and run.
package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/buildinfo"
	"github.com/walrus-go/walrus/node"
)

// Run executes the command line and returns the exit code; run stops on
// SIGINT or SIGTERM.
func Run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, args, stdout, stderr)
}

// RunContext is Run with the context that ends run.
func RunContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{Use: "walrus-node", Short: "Walrus storage node", SilenceUsage: true, SilenceErrors: true,
		Version: buildinfo.Version()}
	root.Flags().BoolP("version", "V", false, "print the version")
	root.SetVersionTemplate("walrus-node {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(setupCmd(stdout), registerCmd(stdout), runCmd(stderr))
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

type setupFlags struct {
	dir, name, rpc, chainID, host, listen, metrics string
	port                                           int
	commission                                     uint16
	storagePrice, writePrice, capacity             uint64
}

func setupCmd(stdout io.Writer) *cobra.Command {
	var f setupFlags
	c := &cobra.Command{
		Use:   "setup",
		Short: "Create the node's keys and node_config.yaml in --dir",
		Long: `Creates, in --dir, the node's protocol key (BLS, protocol.key), network key
(P-256, network.key) and account (a Sui-style keystore, wallet.json), and a
node_config.yaml whose paths are relative to the file. Existing keys are
never overwritten. Fund the printed account address, then run
walrus-node register --config DIR/node_config.yaml.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSetup(&f, stdout) },
	}
	fl := c.Flags()
	fl.StringVar(&f.dir, "dir", "", "directory for the keys, configuration and database (required)")
	fl.StringVar(&f.name, "name", "", "node name on chain (default: the directory's name)")
	fl.StringVar(&f.rpc, "chain-rpc", "http://127.0.0.1:26657", "chain RPC address")
	fl.StringVar(&f.chainID, "chain-id", "", "expected chain ID (empty: taken from the chain)")
	fl.StringVar(&f.host, "public-host", "127.0.0.1", "host registered on chain, that clients and nodes connect to")
	fl.IntVar(&f.port, "public-port", node.DefaultRESTPort, "port registered on chain")
	fl.StringVar(&f.listen, "rest-api-address", "", "listen address (default 0.0.0.0:PUBLIC-PORT)")
	fl.StringVar(&f.metrics, "metrics-address", "127.0.0.1:9184", "Prometheus metrics address (empty: off)")
	fl.Uint16Var(&f.commission, "commission-rate", 0, "commission in basis points (10000 = 100%)")
	fl.Uint64Var(&f.storagePrice, "storage-price", 100_000, "vote: FROST per storage unit per epoch")
	fl.Uint64Var(&f.writePrice, "write-price", 20_000, "vote: FROST per storage unit written")
	fl.Uint64Var(&f.capacity, "node-capacity", 1<<40, "vote: the node's capacity in bytes")
	_ = c.MarkFlagRequired("dir")
	return c
}

func runSetup(f *setupFlags, stdout io.Writer) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	abs, err := filepath.Abs(f.dir)
	if err != nil {
		return err
	}
	if f.name == "" {
		f.name = filepath.Base(abs)
	}
	if f.listen == "" {
		f.listen = "0.0.0.0:" + strconv.Itoa(f.port)
	}
	cfgPath := filepath.Join(f.dir, "node_config.yaml")
	if _, err := os.Stat(cfgPath); err == nil {
		return fmt.Errorf("%s exists; not overwriting it", cfgPath)
	}
	keys, err := node.GenerateKeys(nil)
	if err != nil {
		return err
	}
	if err := node.WriteKeys(keys, filepath.Join(f.dir, "protocol.key"), filepath.Join(f.dir, "network.key"), filepath.Join(f.dir, "wallet.json")); err != nil {
		return err
	}
	c := &node.Config{Name: f.name, StoragePath: "db", ProtocolKeyPair: node.KeyFile{Path: "protocol.key"},
		NetworkKeyPair: node.KeyFile{Path: "network.key"}, WalletPath: "wallet.json", RESTAPIAddress: f.listen,
		PublicHost: f.host, PublicPort: f.port, MetricsAddress: f.metrics,
		Chain:          chainclient.Config{RPC: f.rpc, ChainID: f.chainID},
		CommissionRate: f.commission,
		VotingParams:   node.VotingParams{StoragePrice: f.storagePrice, WritePrice: f.writePrice, NodeCapacity: f.capacity}}
	if err := node.WriteConfig(cfgPath, c); err != nil {
		return err
	}
	addr := ids.AddressOf(keys.Account.Public().(ed25519.PublicKey))
	fmt.Fprintf(stdout, "config\t%s\naccount\t%s\nprotocol_key\t%x\nnext\tfund the account, then: walrus-node register --config %s --stake FROST\n",
		cfgPath, addr, keys.Protocol.PublicKey().Bytes(), cfgPath)
	return nil
}

func registerCmd(stdout io.Writer) *cobra.Command {
	var cfgPath string
	var stake uint64
	c := &cobra.Command{
		Use:   "register",
		Short: "Register the node on chain (with proof of possession) and stake with it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			keys, err := node.LoadKeys(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ch, err := chainclient.Dial(ctx, cfg.Chain)
			if err != nil {
				return err
			}
			sys, err := ch.System(ctx)
			if err != nil {
				return err
			}
			signer := chainclient.NewSigner(keys.Account)
			_, pop := keys.Protocol.ProofOfPossession(sys.Epoch, signer.Address())
			calls := []chain.Call{&chain.RegisterNode{Name: cfg.Name, NetworkAddress: cfg.PublicAddress(),
				PublicKey: keys.Protocol.PublicKey().Bytes(), ProofOfPossession: pop.Bytes(), NetworkPublicKey: keys.NetworkPublicKey(),
				CommissionRate: cfg.CommissionRate, StoragePrice: cfg.VotingParams.StoragePrice, WritePrice: cfg.VotingParams.WritePrice,
				NodeCapacity: cfg.VotingParams.NodeCapacity}}
			if stake > 0 {
				calls = append(calls, &chain.StakeWithPool{Node: chain.CreatedRef(0), Amount: stake})
			}
			res, err := ch.Execute(ctx, signer, calls...)
			if err != nil {
				return fmt.Errorf("register: %w", err)
			}
			fmt.Fprintf(stdout, "node_id\t%s\naddress\t%s\nstake\t%d\ntx\t%s\n", res.Created[0], cfg.PublicAddress(), stake, res.Digest)
			return nil
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "node_config.yaml (required)")
	c.Flags().Uint64Var(&stake, "stake", 0, "FROST to stake with the node from its account")
	_ = c.MarkFlagRequired("config")
	return c
}

func runCmd(stderr io.Writer) *cobra.Command {
	var cfgPath, blocklist, level string
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the storage node until interrupted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lv slog.Level
			if err := lv.UnmarshalText([]byte(level)); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
			cfg, err := node.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			if blocklist != "" {
				if cfg.BlocklistPath, err = filepath.Abs(blocklist); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			start, cancel := context.WithTimeout(ctx, time.Minute)
			n, err := node.New(start, *cfg, node.Options{Logger: logger})
			cancel()
			if err != nil {
				return err
			}
			err = n.Run(ctx)
			logger.Info("stopping")
			return errors.Join(err, n.Close())
		},
	}
	c.Flags().StringVar(&cfgPath, "config", "", "node_config.yaml (required)")
	c.Flags().StringVar(&blocklist, "blocklist", "", "file of blob IDs not to store nor serve (overrides blocklist_path)")
	c.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	_ = c.MarkFlagRequired("config")
	return c
}
