// Package testnet runs the whole system in one process on loopback: an
// embedded single-validator chain whose genesis stakes N storage nodes,
// the nodes themselves (each from its own node_config.yaml and key files,
// as walrus-node run would start it, listening on 127.0.0.1 ports picked at
// start), and a funded client. Nodes can be stopped, restarted and wiped,
// or left to run in another process. It is what whole-network tests and
// the devnet build on.
package testnet

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/abci"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/nodeapi"
)

// ChainID of test networks (unless Config.ChainID says otherwise).
const ChainID = "walrus-testnet"

// Config describes a test network. Zero values take the defaults.
type Config struct {
	// Dir holds everything (required; tests pass t.TempDir()).
	Dir string
	// Nodes is the number of storage nodes (default 4).
	Nodes int
	// Shards is n (default 10).
	Shards int
	// EpochDuration (default 1h: no epoch change during a test).
	EpochDuration time.Duration
	// MaxEpochsAhead (default 53).
	MaxEpochsAhead uint32
	// Stakes of the nodes in genesis, in FROST (default 1000 WAL each).
	Stakes []uint64
	// Logger receives the nodes' and the chain's logs (nil: discarded).
	Logger *slog.Logger
	// Genesis edits the chain's genesis before the chain starts (prices,
	// capacity, more accounts…).
	Genesis func(g *chain.Genesis)
	// NodeConfig edits each node's configuration before it is written.
	NodeConfig func(i int, c *node.Config)
	// External lists nodes that Start does not run: their configuration is
	// written and the test runs them (for example as a subprocess).
	External map[int]bool
	// Client configures the network's client.
	Client client.Config
	// ChainID of the chain (default ChainID).
	ChainID string
	// User is the funded account and faucet (default Key("testnet user")).
	User ed25519.PrivateKey
	// UserBalance is the user's WAL in genesis, in FROST (default 1,000,000 WAL).
	UserBalance uint64
}

func (c Config) withDefaults() Config {
	if c.Nodes == 0 {
		c.Nodes = 4
	}
	if c.Shards == 0 {
		c.Shards = 10
	}
	if c.EpochDuration == 0 {
		c.EpochDuration = time.Hour
	}
	if c.MaxEpochsAhead == 0 {
		c.MaxEpochsAhead = 53
	}
	// WALRUS_TESTNET_LOG=1 shows the warnings and errors of the nodes and the
	// chain on stderr, for debugging a test.
	if c.Logger == nil && os.Getenv("WALRUS_TESTNET_LOG") != "" {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ChainID == "" {
		c.ChainID = ChainID
	}
	if c.User == nil {
		c.User = Key("testnet user")
	}
	if c.UserBalance == 0 {
		c.UserBalance = 1_000_000 * chain.FrostPerWAL
	}
	return c
}

// Network is a running test network.
type Network struct {
	cfg   Config
	chain *abci.Node
	// Chain is a client of the network's chain.
	Chain *chainclient.Client
	// Client stores and reads with the funded user's account.
	Client *client.Client
	// User is the funded account (also the faucet).
	User ed25519.PrivateKey
	// Signer signs for User (one per account and process).
	Signer *chainclient.Signer

	nodes []*nodeSlot
}

// nodeSlot is one storage node: its files, its fixed address, and the
// running instance if any.
type nodeSlot struct {
	index      int
	dir        string
	configPath string
	address    string
	// listener holds the address of a new network's node from before the
	// genesis names it until the node's first start (or, for an external
	// node, until New returns). A resumed node's address is already fixed,
	// so it has none: every start binds the address again.
	listener net.Listener

	mu struct {
		sync.Mutex
		node     *node.Node
		registry *prometheus.Registry
		cancel   context.CancelFunc
		done     chan error
	}
}

// Key derives a deterministic test key.
func Key(seed string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(seed))
	return ed25519.NewKeyFromSeed(s[:])
}

// New starts a network: chain, nodes, client. Close it when done. If Dir
// holds a network started before, New resumes it (same chain, keys,
// addresses and data; the configuration's sizes are then ignored).
func New(ctx context.Context, cfg Config) (*Network, error) {
	cfg = cfg.withDefaults()
	if cfg.Dir == "" {
		return nil, errors.New("testnet: Dir is required")
	}
	n := &Network{cfg: cfg, User: cfg.User}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	var g *chain.Genesis
	if _, err := os.Stat(filepath.Join(cfg.Dir, "node-0", "node_config.yaml")); err == nil {
		if err := n.resumeNodes(); err != nil {
			return nil, err
		}
	} else if g, err = n.prepareNodes(); err != nil {
		return nil, err
	}
	var err error
	n.chain, err = abci.StartEmbedded(ctx, abci.EmbeddedConfig{Dir: filepath.Join(cfg.Dir, "chain"), ChainID: cfg.ChainID, Genesis: g,
		Logger: cfg.Logger.With("component", "chain")})
	if err != nil {
		return nil, err
	}
	if n.Chain, err = chainclient.Dial(ctx, chainclient.Config{RPC: n.chain.RPCAddress(), PollInterval: 50 * time.Millisecond}); err != nil {
		return nil, err
	}
	for i, s := range n.nodes {
		if err := n.writeConfig(s); err != nil {
			return nil, err
		}
		if cfg.External[i] {
			s.releaseListener() // the caller's process binds the address
			continue
		}
		if err := n.StartNode(ctx, i); err != nil {
			return nil, err
		}
	}
	n.Signer = chainclient.NewSigner(n.User)
	if n.Client, err = sdkinternal.New(ctx, n.Chain, n.Signer, cfg.Client); err != nil {
		return nil, err
	}
	for i := range n.nodes {
		if !cfg.External[i] {
			if err := n.WaitHealthy(ctx, i); err != nil {
				return nil, err
			}
		}
	}
	ok = true
	return n, nil
}

// TB is the part of testing.TB that Start uses (declared here so that the
// devnet binary, which builds on this package, does not link testing).
type TB interface {
	Helper()
	TempDir() string
	Fatal(args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Start is New for a test: the network lives in t.TempDir() (unless Dir is
// set) and is closed when the test ends.
func Start(t TB, cfg Config) *Network {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("closing the test network: %v", err)
		}
	})
	return n
}

// prepareNodes makes every node's keys and the genesis that stakes them.
func (n *Network) prepareNodes() (*chain.Genesis, error) {
	cfg := n.cfg
	user := ids.AddressOf(n.User.Public().(ed25519.PublicKey))
	g := &chain.Genesis{NShards: uint16(cfg.Shards), EpochDurationMs: uint64(cfg.EpochDuration.Milliseconds()),
		MaxEpochsAhead: cfg.MaxEpochsAhead, StoragePrice: 1000, WritePrice: 1000, Capacity: 1 << 50, MinFee: 1000,
		Accounts: []chain.GenesisAccount{{Address: user, Balance: cfg.UserBalance}}, Faucet: &user}
	for i := range cfg.Nodes {
		slot, gn, acct, err := n.prepareNode(i)
		if err != nil {
			return nil, err
		}
		n.nodes = append(n.nodes, slot)
		g.Nodes = append(g.Nodes, gn)
		g.Accounts = append(g.Accounts, acct)
	}
	if cfg.Genesis != nil {
		cfg.Genesis(g)
	}
	return g, nil
}

// resumeNodes finds the nodes of a network started before in Dir.
func (n *Network) resumeNodes() error {
	for i := 0; ; i++ {
		dir := filepath.Join(n.cfg.Dir, "node-"+strconv.Itoa(i))
		path := filepath.Join(dir, "node_config.yaml")
		if _, err := os.Stat(path); err != nil {
			break
		}
		c, err := node.LoadConfig(path)
		if err != nil {
			return err
		}
		n.nodes = append(n.nodes, &nodeSlot{index: i, dir: dir, configPath: path, address: c.PublicAddress()})
	}
	return nil
}

// prepareNode writes a node's keys and binds its address.
func (n *Network) prepareNode(i int) (*nodeSlot, chain.GenesisNode, chain.GenesisAccount, error) {
	dir := filepath.Join(n.cfg.Dir, "node-"+strconv.Itoa(i))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, chain.GenesisNode{}, chain.GenesisAccount{}, err
	}
	keys, err := node.GenerateKeys(nil)
	if err != nil {
		return nil, chain.GenesisNode{}, chain.GenesisAccount{}, err
	}
	if err := node.WriteKeys(keys, filepath.Join(dir, "protocol.key"), filepath.Join(dir, "network.key"), filepath.Join(dir, "wallet.json")); err != nil {
		return nil, chain.GenesisNode{}, chain.GenesisAccount{}, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, chain.GenesisNode{}, chain.GenesisAccount{}, err
	}
	s := &nodeSlot{index: i, dir: dir, configPath: filepath.Join(dir, "node_config.yaml"), address: l.Addr().String(), listener: l}
	op := ids.AddressOf(keys.Account.Public().(ed25519.PublicKey))
	stake := uint64(1000 * chain.FrostPerWAL)
	if i < len(n.cfg.Stakes) {
		stake = n.cfg.Stakes[i]
	}
	gn := chain.NewGenesisNode("node-"+strconv.Itoa(i), s.address, keys.Protocol, keys.NetworkPublicKey(), op, stake)
	return s, gn, chain.GenesisAccount{Address: op, Balance: 100 * chain.FrostPerWAL}, nil
}

// writeConfig writes the node's node_config.yaml with paths relative to it.
func (n *Network) writeConfig(s *nodeSlot) error {
	host, port, _ := net.SplitHostPort(s.address)
	p, _ := strconv.Atoi(port)
	c := &node.Config{Name: "node-" + strconv.Itoa(s.index), StoragePath: "db",
		ProtocolKeyPair: node.KeyFile{Path: "protocol.key"}, NetworkKeyPair: node.KeyFile{Path: "network.key"}, WalletPath: "wallet.json",
		RESTAPIAddress: s.address, PublicHost: host, PublicPort: p,
		Chain: chainclient.Config{RPC: n.chain.RPCAddress(), ChainID: n.cfg.ChainID, PollInterval: 50 * time.Millisecond}}
	c.Recovery.RetryInterval = 200 * time.Millisecond
	c.BlocklistReload = 200 * time.Millisecond
	if n.cfg.NodeConfig != nil {
		n.cfg.NodeConfig(s.index, c)
	}
	return node.WriteConfig(s.configPath, c)
}

// StartNode starts (or restarts) node i from its configuration file.
func (n *Network) StartNode(ctx context.Context, i int) error {
	s := n.nodes[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.node != nil {
		return fmt.Errorf("testnet: node %d is running", i)
	}
	cfg, err := node.LoadConfig(s.configPath)
	if err != nil {
		return err
	}
	l := s.listener
	s.listener = nil
	if l == nil {
		if l, err = listenAgain(ctx, s.address); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	nd, err := node.New(ctx, *cfg, node.Options{Logger: n.cfg.Logger.With("node", i), Registerer: reg, Listener: l})
	if err != nil {
		l.Close()
		return fmt.Errorf("testnet: node %d: %w", i, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nd.Run(rctx) }()
	s.mu.node, s.mu.registry, s.mu.cancel, s.mu.done = nd, reg, cancel, done
	return nil
}

// releaseListener closes the listener held for the node, if any.
func (s *nodeSlot) releaseListener() {
	if s.listener != nil {
		s.listener.Close()
		s.listener = nil
	}
}

// listenAgain binds a node's fixed address, retrying while the port is
// still held by the previous instance.
func listenAgain(ctx context.Context, address string) (net.Listener, error) {
	for {
		l, err := net.Listen("tcp", address)
		if err == nil {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("testnet: rebinding %s: %w", address, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// StopNode stops node i and waits for it to release everything.
func (n *Network) StopNode(i int) error {
	s := n.nodes[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.node == nil {
		return nil
	}
	s.mu.cancel()
	err := <-s.mu.done
	err = errors.Join(err, s.mu.node.Close())
	s.mu.node, s.mu.registry = nil, nil
	return err
}

// WipeNode stops node i and deletes its database (its keys and
// configuration stay): restarted, it replays the chain's events and
// recovers every sliver from its peers.
func (n *Network) WipeNode(i int) error {
	if err := n.StopNode(i); err != nil {
		return err
	}
	cfg, err := node.LoadConfig(n.nodes[i].configPath)
	if err != nil {
		return err
	}
	return os.RemoveAll(cfg.StoragePath)
}

// Node returns the running node i (nil if stopped or external).
func (n *Network) Node(i int) *node.Node {
	s := n.nodes[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.node
}

// Registry returns the metrics registry of the running node i.
func (n *Network) Registry(i int) *prometheus.Registry {
	s := n.nodes[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.registry
}

// NodeCount is the number of storage nodes.
func (n *Network) NodeCount() int { return len(n.nodes) }

// ConfigPath is node i's node_config.yaml.
func (n *Network) ConfigPath(i int) string { return n.nodes[i].configPath }

// NodeDir is node i's directory (keys, configuration, db/).
func (n *Network) NodeDir(i int) string { return n.nodes[i].dir }

// Address is node i's fixed host:port.
func (n *Network) Address(i int) string { return n.nodes[i].address }

// ChainRPC is the chain's RPC address.
func (n *Network) ChainRPC() string { return n.chain.RPCAddress() }

// API returns a client of node i's REST API.
func (n *Network) API(i int) *nodeapi.Client {
	c, err := sdkinternal.Node(n.Client, n.nodes[i].address)
	if err != nil {
		panic(err) // addresses are host:port built here
	}
	return c
}

// WaitHealthy waits until node i answers /v1/health.
func (n *Network) WaitHealthy(ctx context.Context, i int) error {
	for {
		hctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := n.API(i).Health(hctx, false)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testnet: node %d not healthy: %w", i, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops every node and the chain.
func (n *Network) Close() error {
	var errs []error
	for i, s := range n.nodes {
		errs = append(errs, n.StopNode(i))
		s.releaseListener()
	}
	if n.Client != nil {
		n.Client.Close()
	}
	if n.Chain != nil {
		n.Chain.Close()
	}
	if n.chain != nil {
		errs = append(errs, n.chain.Stop())
	}
	return errors.Join(errs...)
}
