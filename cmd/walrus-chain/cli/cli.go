// Package cli is the walrus-chain command line: init and run.
package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/buildinfo"
)

// Run executes the command line and returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{Use: "walrus-chain", Short: "Walrus control-plane validator (CometBFT)", SilenceUsage: true, SilenceErrors: true,
		Version: buildinfo.Version()}
	root.Flags().BoolP("version", "V", false, "print the version")
	root.SetVersionTemplate("walrus-chain {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(initCmd(stdout), runCmd(stderr))
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

type initFlags struct {
	home, chainID, appGenesis, faucet string
	nShards                           uint16
	epochDuration                     time.Duration
	maxEpochsAhead                    uint32
	storagePrice, writePrice          uint64
	capacity, minFee                  uint64
	accounts                          []string
	validators                        int
	p2pBasePort                       int
	storageNodes                      int
	nodeStake                         uint64
	timeoutCommit, emptyBlocks        time.Duration
}

func initCmd(stdout io.Writer) *cobra.Command {
	var f initFlags
	c := &cobra.Command{
		Use:   "init",
		Short: "Write CometBFT home(s) with the Walrus genesis",
		Long: `Writes a CometBFT home in --home (or, with --validators N > 1, homes
--home/node0 … node{N-1} that peer with each other on 127.0.0.1), with a
genesis whose app_state holds the Walrus parameters, funded accounts, an
optional faucet and optional initial storage nodes. With --storage-nodes K,
K storage-node identities (BLS key, operator key) are generated into
--home/storage-nodes/ and staked in genesis, so the chain starts in epoch 1
with a committee. --app-genesis takes a complete chain genesis (JSON) instead
of the parameter flags.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(&f, stdout) },
	}
	fl := c.Flags()
	fl.StringVar(&f.home, "home", "", "home directory (required)")
	fl.StringVar(&f.chainID, "chain-id", "walrus-local", "chain ID")
	fl.StringVar(&f.appGenesis, "app-genesis", "", "file with a complete chain genesis in JSON (overrides the parameter flags)")
	fl.Uint16Var(&f.nShards, "n-shards", 10, "number of shards")
	fl.DurationVar(&f.epochDuration, "epoch-duration", time.Hour, "epoch duration")
	fl.Uint32Var(&f.maxEpochsAhead, "max-epochs-ahead", 53, "most epochs storage can be bought ahead")
	fl.Uint64Var(&f.storagePrice, "storage-price", 100_000, "FROST per storage unit (1 MiB encoded) per epoch")
	fl.Uint64Var(&f.writePrice, "write-price", 20_000, "FROST per storage unit written")
	fl.Uint64Var(&f.capacity, "capacity", 1<<40, "system capacity in encoded bytes")
	fl.Uint64Var(&f.minFee, "min-fee", 1_000, "minimum transaction fee in FROST")
	fl.StringArrayVar(&f.accounts, "account", nil, "funded account ADDRESS=FROST (repeatable)")
	fl.StringVar(&f.faucet, "faucet", "", "faucet account address (may mint WAL)")
	fl.IntVar(&f.validators, "validators", 1, "number of validators")
	fl.IntVar(&f.p2pBasePort, "p2p-base-port", 26656, "first P2P port of a multi-validator network (RPC ports follow the P2P ones)")
	fl.IntVar(&f.storageNodes, "storage-nodes", 0, "generate this many staked storage nodes in genesis")
	fl.Uint64Var(&f.nodeStake, "node-stake", 1_000*chain.FrostPerWAL, "genesis stake of each generated storage node (FROST)")
	fl.DurationVar(&f.timeoutCommit, "timeout-commit", time.Second, "CometBFT timeout_commit")
	fl.DurationVar(&f.emptyBlocks, "empty-blocks-interval", time.Second, "interval of empty blocks on an idle chain")
	_ = c.MarkFlagRequired("home")
	return c
}

// StorageNodeIdentity is what init writes for a generated storage node:
// the storage node (a later issue) loads it to sign confirmations and
// transactions.
type StorageNodeIdentity struct {
	NodeID         ids.ObjectID `json:"node_id"`
	BLSSecretKey   string       `json:"bls_secret_key"` // hex, 32 bytes big-endian
	OperatorKey    string       `json:"operator_key"`   // Sui keystore form: base64(0x00 ‖ seed)
	Operator       ids.Address  `json:"operator"`
	NetworkAddress string       `json:"network_address"`
}

func runInit(f *initFlags, stdout io.Writer) error {
	g := &chain.Genesis{NShards: f.nShards, EpochDurationMs: uint64(f.epochDuration.Milliseconds()), MaxEpochsAhead: f.maxEpochsAhead,
		StoragePrice: f.storagePrice, WritePrice: f.writePrice, Capacity: f.capacity, MinFee: f.minFee}
	if f.appGenesis != "" {
		b, err := os.ReadFile(f.appGenesis)
		if err != nil {
			return err
		}
		g = &chain.Genesis{}
		if err := json.Unmarshal(b, g); err != nil {
			return fmt.Errorf("%s: %w", f.appGenesis, err)
		}
	}
	for _, a := range f.accounts {
		addrS, balS, ok := strings.Cut(a, "=")
		addr, err := ids.ParseAddress(addrS)
		bal, err2 := strconv.ParseUint(balS, 10, 64)
		if !ok || err != nil || err2 != nil {
			return fmt.Errorf("--account %q: want 0xADDRESS=FROST", a)
		}
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr, Balance: bal})
	}
	if f.faucet != "" {
		a, err := ids.ParseAddress(f.faucet)
		if err != nil {
			return fmt.Errorf("--faucet: %w", err)
		}
		g.Faucet = &a
	}
	idList, err := generateStorageNodes(f, g)
	if err != nil {
		return err
	}
	nc := abci.NetworkConfig{ChainID: f.chainID, Genesis: g, TimeoutCommit: f.timeoutCommit, EmptyBlocksInterval: f.emptyBlocks}
	if f.validators <= 1 {
		nc.Validators = []abci.Validator{{Home: f.home, P2PAddr: fmt.Sprintf("127.0.0.1:%d", f.p2pBasePort), RPCAddr: fmt.Sprintf("127.0.0.1:%d", f.p2pBasePort+1)}}
	} else {
		for i := range f.validators {
			nc.Validators = append(nc.Validators, abci.Validator{Home: filepath.Join(f.home, fmt.Sprintf("node%d", i)),
				P2PAddr: fmt.Sprintf("127.0.0.1:%d", f.p2pBasePort+2*i), RPCAddr: fmt.Sprintf("127.0.0.1:%d", f.p2pBasePort+2*i+1)})
		}
	}
	if err := abci.InitNetwork(nc); err != nil {
		return err
	}
	if len(idList) > 0 {
		dir := filepath.Join(f.home, "storage-nodes")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		for i, id := range idList {
			b, _ := json.MarshalIndent(id, "", "  ")
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("node-%d.json", i)), b, 0o600); err != nil {
				return err
			}
		}
	}
	for _, v := range nc.Validators {
		fmt.Fprintf(stdout, "%s\trpc http://%s\n", v.Home, v.RPCAddr)
	}
	return nil
}

func generateStorageNodes(f *initFlags, g *chain.Genesis) ([]StorageNodeIdentity, error) {
	var out []StorageNodeIdentity
	for i := range f.storageNodes {
		sk, err := bls.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		_, opKey, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		op := ids.AddressOf(opKey.Public().(ed25519.PublicKey))
		addr := fmt.Sprintf("127.0.0.1:%d", 9185+i)
		netKey := opKey.Public().(ed25519.PublicKey)
		g.Nodes = append(g.Nodes, chain.NewGenesisNode(fmt.Sprintf("storage-node-%d", i), addr, sk, netKey, op, f.nodeStake))
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: op, Balance: 10 * chain.FrostPerWAL})
		skb := sk.Bytes()
		out = append(out, StorageNodeIdentity{BLSSecretKey: hex.EncodeToString(skb[:]),
			OperatorKey: base64.StdEncoding.EncodeToString(append([]byte{0}, opKey.Seed()...)), Operator: op, NetworkAddress: addr})
	}
	if len(out) == 0 {
		return nil, nil
	}
	// Node IDs are assigned at genesis: the pools come first for each node, then its stake.
	m, err := chain.New(chain.Config{ChainID: f.chainID})
	if err != nil {
		return nil, err
	}
	res, err := m.InitGenesis(g, 0)
	if err != nil {
		return nil, err
	}
	for i := range out {
		pk, _ := hex.DecodeString(out[i].BLSSecretKey)
		sk, _ := bls.SecretKeyFromBytes(pk)
		for _, a := range res.System.Committee {
			if a.PublicKey == sk.PublicKey().Bytes() {
				out[i].NodeID = a.NodeID
			}
		}
	}
	return out, nil
}

func runCmd(stderr io.Writer) *cobra.Command {
	var home, rpc, p2p, level string
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the validator in --home until interrupted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lv slog.Level
			if err := lv.UnmarshalText([]byte(level)); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			n, err := abci.Start(ctx, abci.NodeConfig{Home: home, RPCListen: rpc, P2PListen: p2p, Logger: logger})
			if err != nil {
				return err
			}
			logger.Info("walrus-chain running", "chain_id", n.ChainID(), "rpc", n.RPCAddress())
			<-ctx.Done()
			logger.Info("stopping")
			return errors.Join(n.Stop())
		},
	}
	c.Flags().StringVar(&home, "home", "", "home directory written by init (required)")
	c.Flags().StringVar(&rpc, "rpc", "", "RPC listen address host:port (default: config.toml)")
	c.Flags().StringVar(&p2p, "p2p", "", "P2P listen address host:port (default: config.toml)")
	c.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	_ = c.MarkFlagRequired("home")
	return c
}
