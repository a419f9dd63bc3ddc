package devnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/client"
	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/internal/clock"
	"github.com/walrus-go/walrus/internal/fsutil"
	"github.com/walrus-go/walrus/internal/sdkinternal"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/node"
	"github.com/walrus-go/walrus/wallet"
)

// Devnet defaults.
const (
	ChainID             = "walrus-devnet"
	DefaultDevnetNodes  = 4
	DefaultDevnetShards = 1000
	// DaemonAddress is where the devnet's aggregator/publisher listens,
	// and DaemonMetricsAddress its metrics.
	DaemonAddress        = "127.0.0.1:31415"
	DaemonMetricsAddress = "127.0.0.1:27182"
)

type devnetFlags struct {
	dir           string
	nodes, shards int
	epoch         time.Duration
	processes     bool
	daemon        string // address of the aggregator/publisher, or off
	daemonMetrics string
	pprofPort     int // node K profiles on 127.0.0.1:pprofPort+K
	logLevel      logLevel
}

// logLevel is --log-level: the least severe records devnet.log keeps.
type logLevel slog.Level

// String is the flag's text: debug, info, warn or error.
func (l *logLevel) String() string { return strings.ToLower(slog.Level(*l).String()) }

// Set accepts debug, info, warn and error (in any case).
func (l *logLevel) Set(s string) error {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	v, ok := levels[strings.ToLower(s)]
	if !ok {
		return fmt.Errorf("want debug, info, warn or error")
	}
	*l = logLevel(v)
	return nil
}

// Type names the flag's values in --help.
func (l *logLevel) Type() string { return "level" }

// NewCmd is `walrus devnet`.
func NewCmd(e *env) *cobra.Command {
	cmd, _ := newCmd(e)
	return cmd
}

// newCmd is `walrus devnet` and the flags it parses into.
func newCmd(e *env) (*cobra.Command, *devnetFlags) {
	f := &devnetFlags{logLevel: logLevel(slog.LevelWarn)}
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a whole Walrus network on this machine (chain, storage nodes, funded wallet)",
		Long: `Starts, on loopback, an in-process validator, --nodes storage nodes with equal stake, and a
funded wallet, then writes DIR/client_config.yaml and runs until interrupted (SIGINT or SIGTERM
stop everything within seconds). client_config.yaml is written last, atomically, once the
committee exists and every node answers /v1/health, so its appearance means ready; it is
removed on exit.

Layout of --dir: chain/ (CometBFT home and state), wallet.json (the funded wallet, also the
faucet of get-wal), node-K/ (node_config.yaml, protocol.key, network.key, wallet.json of the
operator, db/, and with --processes pid and node.log), devnet.log, client_config.yaml.
devnet.log holds the chain's, the nodes' and the daemon's records of --log-level and above
(default warn: info adds CometBFT's lines for every block, about 1 MB a minute).
Running again with the same --dir resumes the same network with its data (the size flags are
then ignored).

With --processes the storage nodes run as separate processes of this same binary, each
equivalent to walrus-node run --config DIR/node-K/node_config.yaml. The devnet never restarts
a node itself: kill one and it stays down until you run that command; started with an empty
db/ it heals from its peers.

The devnet also runs the Walrus HTTP API (aggregator and publisher, as walrus daemon) on
--daemon-address (default 127.0.0.1:31415), paid by the funded wallet through sub-wallets
derived from it; it listens before client_config.yaml is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDevnet(cmd.Context(), e, *f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "./devnet", "directory of the network (resumed if it exists)")
	fl.IntVar(&f.nodes, "nodes", DefaultDevnetNodes, "number of storage nodes")
	fl.IntVar(&f.shards, "shards", DefaultDevnetShards, "number of shards (n ≡ 1 mod 3 and a multiple of --nodes keeps shards equal)")
	fl.DurationVar(&f.epoch, "epoch-duration", time.Hour, "epoch duration")
	fl.BoolVar(&f.processes, "processes", false, "run the storage nodes as separate processes")
	fl.StringVar(&f.daemon, "daemon-address", DaemonAddress, "address of the aggregator/publisher daemon (off: none)")
	fl.StringVar(&f.daemonMetrics, "daemon-metrics-address", DaemonMetricsAddress, "address of the daemon's Prometheus metrics (off: none)")
	fl.IntVar(&f.pprofPort, "node-pprof-port", 0, "node K serves Go's profiling endpoints on 127.0.0.1:PORT+K (0: off)")
	fl.Var(&f.logLevel, "log-level", "least severe records written to devnet.log: debug, info, warn or error")
	return cmd, f
}

// devnetInfo is the --json output of a devnet once ready.
type devnetInfo struct {
	Dir          string       `json:"dir"`
	ClientConfig string       `json:"clientConfig"`
	ChainID      string       `json:"chainId"`
	ChainRPC     string       `json:"chainRpc"`
	Wallet       string       `json:"wallet"`
	Address      ids.Address  `json:"address"`
	Nodes        []devnetNode `json:"nodes"`
	Shards       int          `json:"nShards"`
	Daemon       string       `json:"daemon,omitempty"` // the aggregator/publisher's URL
	// BalanceFrost is the wallet's WAL when the devnet became ready.
	BalanceFrost uint64 `json:"balanceFrost"`
}

type devnetNode struct {
	Address string `json:"address"`
	Config  string `json:"config"`
	PID     int    `json:"pid,omitempty"`
}

func runDevnet(ctx context.Context, e *env, f devnetFlags) error {
	if f.nodes < 1 || f.shards < 1 {
		return errors.New("--nodes and --shards must be positive")
	}
	if f.shards < f.nodes {
		return fmt.Errorf("--shards %d is fewer than --nodes %d", f.shards, f.nodes)
	}
	d, err := prepareDir(f.dir)
	if err != nil {
		return err
	}
	if f.daemon != "off" {
		if err := checkFree(f.daemon, "the daemon address (--daemon-address)"); err != nil {
			return err
		}
	}
	logf, err := os.OpenFile(filepath.Join(d.dir, "devnet.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cfg := networkConfig(f, d, slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.Level(f.logLevel)})))
	if d.resume {
		if err := checkPortsFree(d.dir); err != nil {
			return err
		}
		e.Say("Resuming the devnet in %s…", d.dir)
	} else {
		e.Say("Starting a devnet in %s: %s, %s, epochs of %s…", d.dir, cmdenv.Count(f.nodes, "storage node", "storage nodes"), cmdenv.Count(f.shards, "shard", "shards"), f.epoch)
	}
	start := time.Now()
	net, err := testnet.New(ctx, cfg)
	if err != nil {
		return err
	}
	var procs []*nodeProcess
	defer func() {
		stopProcesses(e, procs)
		_ = os.Remove(d.clientConfig)
		if err := net.Close(); err != nil {
			e.Say("walrus: closing the devnet: %v", err)
		}
	}()
	if f.processes {
		if procs, err = startProcesses(net); err != nil {
			return err
		}
	}
	if err := waitReady(ctx, net); err != nil {
		return err
	}
	daemonURL, stopDaemon, err := startDevnetDaemon(ctx, net, d.dir, f.daemon, f.daemonMetrics, cfg.Logger.With("component", "daemon"))
	if err != nil {
		return err
	}
	defer stopDaemon()
	if err := WriteClientConfig(d.clientConfig, net.ChainRPC()); err != nil {
		return err
	}
	info, err := d.info(ctx, net, procs, daemonURL)
	if err != nil {
		return err
	}
	if e.JSON {
		if err := e.PrintJSON(info); err != nil {
			return err
		}
	}
	printDevnetReady(e, info, time.Since(start), f.processes)
	<-ctx.Done()
	e.Say("\nStopping the devnet…")
	return nil
}

// devnetDir is a devnet's directory: where its client configuration and
// wallet go, whether it already holds a network, and the funded key.
type devnetDir struct {
	dir, clientConfig, wallet string
	resume                    bool
	user                      ed25519.PrivateKey
}

// prepareDir makes the directory, removes a stale client configuration
// (its appearance must mean ready), and loads or creates the wallet.
func prepareDir(path string) (*devnetDir, error) {
	dir, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	d := &devnetDir{dir: dir, clientConfig: filepath.Join(dir, "client_config.yaml"), wallet: filepath.Join(dir, "wallet.json"),
		resume: fileExists(filepath.Join(dir, "node-0", "node_config.yaml"))}
	_ = os.Remove(d.clientConfig)
	switch {
	case fileExists(d.wallet):
		d.user, err = wallet.Load(d.wallet)
	case d.resume:
		err = fmt.Errorf("%s holds a network but no wallet.json", dir)
	default:
		d.user, err = wallet.Create(d.wallet)
	}
	return d, err
}

// networkConfig is the test network of the flags in d.
func networkConfig(f devnetFlags, d *devnetDir, log *slog.Logger) testnet.Config {
	cfg := testnet.Config{Dir: d.dir, Nodes: f.nodes, Shards: f.shards, EpochDuration: f.epoch, ChainID: ChainID,
		User: d.user, UserBalance: 1_000_000 * chain.FrostPerWAL, Logger: log,
		// Walrus Mainnet's prices: 0.0001 WAL per unit (1 MiB encoded) per epoch, 20,000 FROST per unit written.
		Genesis: func(g *chain.Genesis) { g.StoragePrice, g.WritePrice = 100_000, 20_000 }}
	if f.pprofPort > 0 {
		cfg.NodeConfig = func(i int, c *node.Config) {
			c.PprofAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(f.pprofPort+i))
		}
	}
	if f.processes {
		cfg.External = map[int]bool{}
		n := f.nodes
		if d.resume {
			n = countNodes(d.dir)
		}
		for i := range n {
			cfg.External[i] = true
		}
	}
	return cfg
}

// info is what `walrus devnet` prints once the network is ready, with the
// wallet's balance read from the chain (a resumed devnet's wallet, and
// the daemon's funding, have spent some of the genesis amount).
func (d *devnetDir) info(ctx context.Context, net *testnet.Network, procs []*nodeProcess, daemonURL string) (devnetInfo, error) {
	bal, err := net.Client.Balance(ctx)
	if err != nil {
		return devnetInfo{}, fmt.Errorf("devnet: the wallet's balance: %w", err)
	}
	info := devnetInfo{Dir: d.dir, ClientConfig: d.clientConfig, ChainID: ChainID, ChainRPC: net.ChainRPC(), Wallet: d.wallet,
		Address: wallet.Address(d.user), Shards: net.Client.Params().N(), Daemon: daemonURL, BalanceFrost: bal}
	for i := range net.NodeCount() {
		dn := devnetNode{Address: net.Address(i), Config: net.ConfigPath(i)}
		if i < len(procs) {
			dn.PID = procs[i].cmd.Process.Pid
		}
		info.Nodes = append(info.Nodes, dn)
	}
	return info, nil
}

// waitReady waits until the committee exists and every node answers /v1/health.
func waitReady(ctx context.Context, net *testnet.Network) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		if _, _, err := sdkinternal.Committees(ctx, net.Client); err == nil {
			break
		}
		if err := clock.Sleep(ctx, clock.System, 100*time.Millisecond); err != nil {
			return fmt.Errorf("devnet: no committee: %w", err)
		}
	}
	for i := range net.NodeCount() {
		if err := net.WaitHealthy(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// Funding of the devnet daemon's own wallet, from the user's wallet.
const (
	daemonFunds    = 100_000 * 1_000_000_000 // 100,000 WAL at creation
	daemonLowWater = 10_000 * 1_000_000_000  // topped up again below 10,000 WAL
)

// startDevnetDaemon starts the aggregator/publisher on address and returns
// once it listens, so that client_config.yaml, written after this, still
// means "everything is ready". address "off" starts nothing.
//
// The daemon signs with a wallet of its own, DIR/daemon-wallet.json
// (created on the first run, funded from the user's wallet, reused on
// resume): sharing the user's wallet would make the publisher's
// transactions race the user's CLI for the same account's sequence
// numbers. Its sub-wallets are derived from that wallet, and the Blob
// objects of HTTP stores belong to it unless send_object_to says otherwise.
func startDevnetDaemon(ctx context.Context, net *testnet.Network, dir, address, metrics string, log *slog.Logger) (url string, stop func(), err error) {
	if address == "off" {
		return "", func() {}, nil
	}
	keyPath := filepath.Join(dir, "daemon-wallet.json")
	var key ed25519.PrivateKey
	if fileExists(keyPath) {
		key, err = wallet.Load(keyPath)
	} else {
		key, err = wallet.Create(keyPath)
	}
	if err != nil {
		return "", nil, fmt.Errorf("devnet daemon wallet: %w", err)
	}
	c, err := sdkinternal.New(ctx, net.Chain, chainclient.NewSigner(key), client.Config{})
	if err != nil {
		return "", nil, fmt.Errorf("devnet daemon: %w", err)
	}
	if bal, err := c.Balance(ctx); err != nil {
		c.Close()
		return "", nil, fmt.Errorf("devnet daemon wallet: %w", err)
	} else if bal < daemonLowWater {
		if err := net.Client.Transfer(ctx, wallet.Address(key), daemonFunds-bal); err != nil {
			c.Close()
			return "", nil, fmt.Errorf("funding the devnet daemon's wallet: %w", err)
		}
	}
	srv, err := gateway.New(ctx, gateway.Config{Aggregator: true, Publisher: true, BindAddress: address, MetricsAddress: metrics},
		gateway.Deps{Client: c, Key: key, Logger: log})
	if err != nil {
		c.Close()
		return "", nil, fmt.Errorf("devnet daemon: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Close()
		c.Close()
		return "", nil, fmt.Errorf("devnet daemon: %w", err)
	}
	return "http://" + srv.Addr(), func() { _ = srv.Close(); c.Close() }, nil
}

// checkFree fails if address is taken.
func checkFree(address, what string) error {
	l, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("%s %s is in use: stop what runs there (another devnet or walrus daemon?) or pass another one: %w", what, address, err)
	}
	return l.Close()
}

// WriteClientConfig writes the devnet's client_config.yaml atomically.
func WriteClientConfig(path, rpc string) error {
	f := &client.ConfigFile{
		Contexts: map[string]*client.ContextConfig{"devnet": {
			ChainID:       ChainID,
			RPCURLs:       []string{rpc},
			WalletConfig:  &client.WalletConfig{Path: "wallet.json"},
			FaucetWallet:  "wallet.json",
			DefaultEpochs: 1,
		}},
		DefaultContext: "devnet",
	}
	b, err := client.MarshalConfigFile(f)
	if err != nil {
		return err
	}
	b = append([]byte("# Written by `walrus devnet`; removed when it stops. Paths are relative to this file.\n"), b...)
	return fsutil.WriteFileAtomic(path, b, 0o600)
}

func printDevnetReady(e *env, info devnetInfo, took time.Duration, processes bool) {
	rel := func(p string) string {
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, p); err == nil && len(r) < len(p) {
				return r
			}
		}
		return p
	}
	cfg := rel(info.ClientConfig)
	w := e.Stderr
	fmt.Fprintf(w, "\nThe Walrus devnet is ready (%s): %s, %s, chain %s at %s.\n",
		took.Round(time.Millisecond), cmdenv.Count(len(info.Nodes), "storage node", "storage nodes"), cmdenv.Count(info.Shards, "shard", "shards"), info.ChainID, info.ChainRPC)
	fmt.Fprintf(w, "  wallet %s (%s) holds %s; it is also the faucet of get-wal\n", rel(info.Wallet), info.Address, cmdenv.Frost(info.BalanceFrost))
	for i, n := range info.Nodes {
		pid := ""
		if processes {
			pid = fmt.Sprintf(" pid %d (restart: walrus-node run --config %s)", n.PID, rel(n.Config))
		}
		fmt.Fprintf(w, "  node-%d at %s%s\n", i, n.Address, pid)
	}
	fmt.Fprintf(w, `
Next, in another terminal (build once: every go run spends a second or two building):
  go build -o walrus ./cmd/walrus
  ./walrus --config %[1]s info
  echo "hello walrus" > hello.txt
  ./walrus --config %[1]s store hello.txt --epochs 5
  ./walrus --config %[1]s read "$(./walrus --config %[1]s blob-id hello.txt)" --out hello.out
  ./walrus --config %[1]s blob-status --file hello.txt
  ./walrus --config %[1]s list-blobs
  ./walrus --config %[1]s health
%[2]s
Stop with Ctrl-C; run the same command again to resume this network with its data.
`, cfg, daemonHelp(info.Daemon))
}

// daemonHelp is the curl part of the devnet's greeting.
func daemonHelp(url string) string {
	if url == "" {
		return ""
	}
	return fmt.Sprintf(`
The HTTP API (aggregator and publisher) is at %[1]s:
  curl -X PUT --data-binary @hello.txt "%[1]s/v1/blobs?epochs=5"      # {"newlyCreated": {…}}
  curl "%[1]s/v1/blobs/BLOB_ID"
  curl -X PUT -F "a.txt=@hello.txt" -F "b.txt=@README.md" "%[1]s/v1/quilts"
  curl "%[1]s/v1/quilts/QUILT_ID/patches"
`, url)
}

// nodeProcess is a storage node run as a process of this binary.
type nodeProcess struct {
	cmd     *exec.Cmd
	pidPath string
	log     *os.File
	done    chan struct{}
}

// startProcesses runs every node as `<this binary> node run --config …`,
// writing node-K/pid and node-K/node.log.
func startProcesses(net *testnet.Network) ([]*nodeProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var procs []*nodeProcess
	for i := range net.NodeCount() {
		dir := net.NodeDir(i)
		logf, err := os.OpenFile(filepath.Join(dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return procs, err
		}
		cmd := exec.Command(exe, "node", "run", "--config", net.ConfigPath(i))
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches the devnet only; it stops the nodes
		if err := cmd.Start(); err != nil {
			logf.Close()
			return procs, err
		}
		p := &nodeProcess{cmd: cmd, pidPath: filepath.Join(dir, "pid"), log: logf, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.done) }()
		procs = append(procs, p)
		if err := os.WriteFile(p.pidPath, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
			return procs, err
		}
	}
	return procs, nil
}

// stopProcesses sends SIGTERM to the node processes the devnet started,
// and SIGKILL to those still running after 10 seconds.
func stopProcesses(e *env, procs []*nodeProcess) {
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.After(10 * time.Second)
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline:
			e.Say("walrus: node process %d did not stop; killing it", p.cmd.Process.Pid)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		_ = os.Remove(p.pidPath)
		p.log.Close()
	}
}

// checkPortsFree fails if a node address of the network in dir is taken
// (typically by a node of this devnet still running, started by hand).
func checkPortsFree(dir string) error {
	for i := range countNodes(dir) {
		c, err := node.LoadConfig(filepath.Join(dir, "node-"+strconv.Itoa(i), "node_config.yaml"))
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", c.PublicAddress())
		if err != nil {
			return fmt.Errorf("node-%d's address %s is in use: stop what runs there (a node of this devnet started by hand?) and run again", i, c.PublicAddress())
		}
		l.Close()
	}
	return nil
}

func countNodes(dir string) int {
	n := 0
	for fileExists(filepath.Join(dir, "node-"+strconv.Itoa(n), "node_config.yaml")) {
		n++
	}
	return n
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
