package abci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/walrus-go/walrus/chain"
)

// Timing presets. Tests and the devnet want blocks quickly and an idle
// chain whose time still advances; real validators keep CometBFT's defaults.
const (
	DevTimeoutCommit       = 50 * time.Millisecond
	DevEmptyBlocksInterval = 250 * time.Millisecond
)

// Validator is one validator of a network being initialised.
type Validator struct {
	Home    string // its CometBFT home directory
	Moniker string
	P2PAddr string // host:port it listens on for peers ("" for a single validator: picked at start)
	RPCAddr string // host:port of its RPC ("": picked at start)
}

// NetworkConfig describes a chain to initialise: its validators' homes and
// the genesis.
type NetworkConfig struct {
	ChainID     string
	GenesisTime time.Time // zero: now
	Genesis     *chain.Genesis
	Validators  []Validator
	// TimeoutCommit and EmptyBlocksInterval go into config.toml (0: the Dev presets).
	TimeoutCommit       time.Duration
	EmptyBlocksInterval time.Duration
}

// InitNetwork writes a CometBFT home for every validator: keys, a
// config.toml tuned for a small local network (PEX off, peers named
// explicitly, empty blocks at an interval) and one shared genesis.json
// whose app_state is the chain genesis. Existing keys are kept.
func InitNetwork(nc NetworkConfig) error {
	if nc.ChainID == "" || nc.Genesis == nil || len(nc.Validators) == 0 {
		return errors.New("abci: init: chain ID, genesis and at least one validator are required")
	}
	if err := nc.Genesis.Validate(); err != nil {
		return fmt.Errorf("abci: init: genesis: %w", err)
	}
	appState, err := json.Marshal(nc.Genesis)
	if err != nil {
		return err
	}
	gt := nc.GenesisTime
	if gt.IsZero() {
		gt = time.Now()
	}
	doc := &cmttypes.GenesisDoc{ChainID: nc.ChainID, GenesisTime: gt.UTC().Truncate(time.Millisecond),
		ConsensusParams: cmttypes.DefaultConsensusParams(), AppState: appState}
	var peers []string
	configs := make([]*cfg.Config, len(nc.Validators))
	for i, v := range nc.Validators {
		c := tunedConfig(v.Home, nc.TimeoutCommit, nc.EmptyBlocksInterval)
		c.Moniker = v.Moniker
		if c.Moniker == "" {
			c.Moniker = fmt.Sprintf("validator-%d", i)
		}
		for _, d := range []string{filepath.Join(v.Home, "config"), filepath.Join(v.Home, "data")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		pv := privval.LoadOrGenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
		pub, err := pv.GetPubKey()
		if err != nil {
			return err
		}
		nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
		if err != nil {
			return err
		}
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: c.Moniker})
		if v.P2PAddr != "" {
			c.P2P.ListenAddress = "tcp://" + v.P2PAddr
			peers = append(peers, fmt.Sprintf("%s@%s", nk.ID(), v.P2PAddr))
		}
		if v.RPCAddr != "" {
			c.RPC.ListenAddress = "tcp://" + v.RPCAddr
		}
		configs[i] = c
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return err
	}
	for i, c := range configs {
		var others []string
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		c.P2P.PersistentPeers = strings.Join(others, ",")
		cfg.WriteConfigFile(filepath.Join(c.RootDir, "config", "config.toml"), c)
		if err := doc.SaveAs(c.GenesisFile()); err != nil {
			return err
		}
	}
	return nil
}

// tunedConfig is CometBFT's default configuration for a small local
// network.
func tunedConfig(home string, commit, empty time.Duration) *cfg.Config {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	if commit == 0 {
		commit = DevTimeoutCommit
	}
	if empty == 0 {
		empty = DevEmptyBlocksInterval
	}
	c.Consensus.TimeoutCommit = commit
	c.Consensus.TimeoutPropose = 500 * time.Millisecond
	c.Consensus.TimeoutPrevote = 200 * time.Millisecond
	c.Consensus.TimeoutPrecommit = 200 * time.Millisecond
	c.Consensus.CreateEmptyBlocks = true
	c.Consensus.CreateEmptyBlocksInterval = empty
	c.Consensus.PeerGossipSleepDuration = 10 * time.Millisecond
	c.P2P.PexReactor = false // it writes its address book after Stop
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.P2P.FlushThrottleTimeout = 10 * time.Millisecond
	c.P2P.ListenAddress = "tcp://127.0.0.1:26656"
	c.RPC.ListenAddress = "tcp://127.0.0.1:26657"
	c.Mempool.Size = 20000
	c.Mempool.CacheSize = 40000
	c.Instrumentation.Prometheus = false
	return c
}

// NodeConfig configures a node started from an initialised home.
type NodeConfig struct {
	Home string
	// RPCListen and P2PListen override config.toml: "host:port", or "auto"
	// for a free port on 127.0.0.1 picked at start.
	RPCListen string
	P2PListen string
	// Workers verify signatures ahead of the apply (0: GOMAXPROCS).
	Workers int
	Logger  *slog.Logger
}

// Node is a running CometBFT node with the Walrus application in process.
type Node struct {
	indexDB dbm.DB
	cmt     *cmtnode.Node
	app     *App
	rpcAddr string
	chainID string
}

// Start starts a node from a home made by InitNetwork (or walrus-chain
// init). Stop it with Stop.
func Start(ctx context.Context, nc NodeConfig) (*Node, error) {
	c := cfg.DefaultConfig()
	c.SetRoot(nc.Home)
	if err := loadConfigFile(c); err != nil {
		return nil, err
	}
	if err := override(&c.RPC.ListenAddress, nc.RPCListen); err != nil {
		return nil, err
	}
	if err := override(&c.P2P.ListenAddress, nc.P2PListen); err != nil {
		return nil, err
	}
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("abci: config: %w", err)
	}
	doc, err := cmttypes.GenesisDocFromFile(c.GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("abci: genesis: %w", err)
	}
	logger := nc.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	app, err := Open(Config{ChainID: doc.ChainID, Dir: filepath.Join(nc.Home, "data", "walrus"), Workers: nc.Workers, Logger: logger})
	if err != nil {
		return nil, err
	}
	nk, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		app.Close()
		return nil, err
	}
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	node := &Node{app: app, chainID: doc.ChainID}
	n, err := cmtnode.NewNodeWithContext(ctx, c, pv, nk, proxy.NewConnSyncLocalClientCreator(app),
		func() (*cmttypes.GenesisDoc, error) { return doc, nil },
		node.dbProvider, cmtnode.DefaultMetricsProvider(c.Instrumentation), slogAdapter{logger.With("module", "cometbft")})
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("abci: new node: %w", err)
	}
	node.cmt = n
	if err := n.Start(); err != nil {
		node.closeIndexer()
		app.Close()
		return nil, fmt.Errorf("abci: start node: %w", err)
	}
	node.rpcAddr = "http://" + strings.TrimPrefix(c.RPC.ListenAddress, "tcp://")
	return node, nil
}

// dbProvider opens CometBFT's databases and remembers the transaction
// index, which CometBFT does not close on Stop; Stop closes it so that the
// same home can be opened again in this process.
func (n *Node) dbProvider(ctx *cfg.DBContext) (dbm.DB, error) {
	db, err := cfg.DefaultDBProvider(ctx)
	if err == nil && ctx.ID == "tx_index" {
		n.indexDB = db
	}
	return db, err
}

func (n *Node) closeIndexer() error {
	if n.indexDB == nil {
		return nil
	}
	err := n.indexDB.Close()
	n.indexDB = nil
	return err
}

func loadConfigFile(c *cfg.Config) error {
	path := filepath.Join(c.RootDir, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("abci: %s: %w (run init first)", path, err)
	}
	return readTOML(path, c)
}

func override(dst *string, v string) error {
	switch v {
	case "":
		return nil
	case "auto":
		port, err := freePort()
		if err != nil {
			return err
		}
		*dst = fmt.Sprintf("tcp://127.0.0.1:%d", port)
	default:
		*dst = "tcp://" + v
	}
	return nil
}

// freePort asks the OS for a free port on 127.0.0.1. Another process may
// take it before CometBFT binds it; callers retry on failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeAddr returns "127.0.0.1:port" with a port that was free a moment ago.
func FreeAddr() (string, error) {
	p, err := freePort()
	return fmt.Sprintf("127.0.0.1:%d", p), err
}

// RPCAddress is the node's CometBFT RPC address (http://host:port).
func (n *Node) RPCAddress() string { return n.rpcAddr }

// ChainID is the chain's ID.
func (n *Node) ChainID() string { return n.chainID }

// App is the application, for direct reads in process.
func (n *Node) App() *App { return n.app }

// CometBFT is the underlying node.
func (n *Node) CometBFT() *cmtnode.Node { return n.cmt }

// Stop stops the node, waits for it, and closes the application state.
func (n *Node) Stop() error {
	var errs []error
	if n.cmt.IsRunning() {
		if err := n.cmt.Stop(); err != nil {
			errs = append(errs, err)
		}
		n.cmt.Wait()
	}
	errs = append(errs, n.closeIndexer(), n.app.Close())
	return errors.Join(errs...)
}

// EmbeddedConfig configures a single-validator chain in one directory.
type EmbeddedConfig struct {
	Dir     string // home directory; created and initialised on first use
	ChainID string
	Genesis *chain.Genesis // used only when Dir is new
	// Timing (0: the Dev presets).
	TimeoutCommit       time.Duration
	EmptyBlocksInterval time.Duration
	Workers             int
	Logger              *slog.Logger
}

// StartEmbedded starts an in-process single-validator chain: it
// initialises cfg.Dir if it has no config yet, then starts the node with
// its RPC on a free loopback port. Restarting on the same Dir resumes the
// chain where it stopped.
func StartEmbedded(ctx context.Context, ec EmbeddedConfig) (*Node, error) {
	if _, err := os.Stat(filepath.Join(ec.Dir, "config", "genesis.json")); errors.Is(err, os.ErrNotExist) {
		if err := InitNetwork(NetworkConfig{ChainID: ec.ChainID, Genesis: ec.Genesis, Validators: []Validator{{Home: ec.Dir}},
			TimeoutCommit: ec.TimeoutCommit, EmptyBlocksInterval: ec.EmptyBlocksInterval}); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 {
		n, err := Start(ctx, NodeConfig{Home: ec.Dir, RPCListen: "auto", P2PListen: "auto", Workers: ec.Workers, Logger: ec.Logger})
		if err == nil {
			return n, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// slogAdapter lets CometBFT log through slog.
type slogAdapter struct{ l *slog.Logger }

func (s slogAdapter) Debug(msg string, kv ...any) { s.l.Debug(msg, kv...) }
func (s slogAdapter) Info(msg string, kv ...any)  { s.l.Info(msg, kv...) }
func (s slogAdapter) Error(msg string, kv ...any) { s.l.Error(msg, kv...) }
func (s slogAdapter) With(kv ...any) cmtlog.Logger {
	return slogAdapter{s.l.With(kv...)}
}
