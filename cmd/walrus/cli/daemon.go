package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/cmd/walrus/cli/cmdenv"
	"github.com/walrus-go/walrus/gateway"
	"github.com/walrus-go/walrus/wallet"
)

// daemonFlags are the flags of walrus aggregator, publisher and daemon
// (Walrus's names and defaults).
type daemonFlags struct {
	bind, metrics, blocklist string
	// aggregator
	allowedHeaders        []string
	allowQuiltTags        bool
	maxBlobSize           uint64
	aggConcurrency        int
	aggBuffer             int
	cacheSize             string
	cacheTTL              time.Duration
	maxBodyKiB, maxQuilt  int64
	pubConcurrency        int
	pubBuffer             int
	nClients              int
	subWalletsDir         string
	minBalance, refill    uint64
	refillInterval        time.Duration
	burnAfterStore, keep  bool
	jwtSecret, jwtAlg     string
	jwtExpiringSec        int64
	jwtVerifyUpload       bool
	jwtCacheSize          int
	jwtCacheRefresh       time.Duration
	logLevel              string
	memoryBudget, tempDir string
	aggregator, publisher bool
	// HTTP timeouts (all roles) and the publisher's body deadlines.
	readHeaderTimeout, idleTimeout time.Duration
	readTimeout, writeTimeout      time.Duration
	bodyIdleTimeout, bodyRateGrace time.Duration
	minBodyRate                    string
}

func (f *daemonFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.bind, "bind-address", gateway.DefaultBindAddress, "address to serve the HTTP API on")
	fl.StringVarP(&f.metrics, "metrics-address", "a", gateway.DefaultMetricsAddress, "address of the Prometheus metrics (/metrics); off for none")
	fl.StringVar(&f.blocklist, "blocklist", "", "file of blocked blob IDs (a YAML list, or one per line), re-read when it changes")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error (logs go to stderr)")
	fl.DurationVar(&f.readHeaderTimeout, "read-header-timeout", gateway.DefaultReadHeaderTimeout, "longest time to read a request's headers (0: none)")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", gateway.DefaultIdleTimeout, "longest time a kept-alive connection waits for its next request (0: none)")
	fl.DurationVar(&f.readTimeout, "read-timeout", 0, "longest time to read a whole request, body included (0: none; publisher bodies have their own deadlines)")
	fl.DurationVar(&f.writeTimeout, "write-timeout", 0, "longest time to write a whole answer (0: none, so that large streamed reads are not cut)")
	if f.aggregator {
		fl.StringSliceVar(&f.allowedHeaders, "allowed-headers", gateway.DefaultAllowedHeaders, "blob attributes returned as headers by /v1/blobs/by-object-id")
		fl.BoolVar(&f.allowQuiltTags, "allow-quilt-patch-tags-in-response", false, "return every tag of a quilt patch as a header, not only allowed ones")
		fl.Uint64Var(&f.maxBlobSize, "max-blob-size", 0, "refuse to serve blobs larger than this many bytes (403); 0: no limit")
		fl.IntVar(&f.aggConcurrency, "aggregator-max-concurrent-requests", gateway.DefaultAggregatorReqs, "reads served at once")
		fl.IntVar(&f.aggBuffer, "aggregator-max-buffer-size", gateway.DefaultAggregatorBuffer, "reads waiting beyond those; more get 429")
		fl.StringVar(&f.cacheSize, "cache-size", "256MiB", "memory for decoded blobs and patches (0 for none)")
		fl.DurationVar(&f.cacheTTL, "cache-ttl", gateway.DefaultCacheTTL, "longest time a decoded blob is served from memory")
	}
	if f.publisher {
		fl.Int64Var(&f.maxBodyKiB, "max-body-size", gateway.DefaultMaxBodySize>>10, "largest PUT /v1/blobs body, in KiB (403 SIZE_EXCEEDED beyond)")
		fl.Int64Var(&f.maxQuilt, "max-quilt-body-size", gateway.DefaultMaxQuiltBodySize>>10, "largest PUT /v1/quilts body, in KiB")
		fl.IntVar(&f.pubConcurrency, "max-concurrent-requests", gateway.DefaultPublisherRequests, "stores run at once")
		fl.StringVar(&f.memoryBudget, "memory-budget", "1GiB", "memory the stores share (each gets an equal part, at least 64MiB); bodies are spooled to --temp-dir")
		fl.StringVar(&f.tempDir, "temp-dir", "", "where request bodies and scratch space go (default: the system's temporary directory)")
		fl.IntVar(&f.pubBuffer, "max-buffer-size", gateway.DefaultPublisherBuffer, "stores waiting beyond those; more get 429")
		fl.DurationVar(&f.bodyIdleTimeout, "body-idle-timeout", gateway.DefaultBodyIdleTimeout, "longest a PUT body may send nothing, before its first byte and once admitted (408 beyond; 0: none)")
		fl.StringVar(&f.minBodyRate, "min-body-rate", "32KiB", "average rate per second a PUT body must keep once admitted, after --body-rate-grace (408 below; 0: none)")
		fl.DurationVar(&f.bodyRateGrace, "body-rate-grace", gateway.DefaultBodyRateGrace, "time an admitted PUT body has before --min-body-rate applies (0: none)")
		fl.IntVar(&f.nClients, "n-clients", 8, "sub-wallets storing concurrently")
		fl.StringVar(&f.subWalletsDir, "sub-wallets-dir", "", "directory of the sub-wallets' keystores (default: keys derived from the wallet)")
		fl.Uint64Var(&f.minBalance, "sub-wallets-min-balance", 500_000_000, "FROST below which a sub-wallet is refilled")
		fl.Uint64Var(&f.refill, "wal-refill-amount", 500_000_000, "FROST sent to a sub-wallet at each refill")
		fl.DurationVar(&f.refillInterval, "refill-interval", time.Second, "how often the sub-wallets' balances are checked")
		fl.BoolVar(&f.burnAfterStore, "burn-after-store", false, "burn the Blob objects created (default: they go to the wallet)")
		fl.BoolVar(&f.keep, "keep", false, "no effect (Walrus's deprecated flag: objects are kept by default)")
		fl.StringVar(&f.jwtSecret, "jwt-decode-secret", "", "verify JWTs with this secret (HS*: text or 0x-hex; else a PEM public key)")
		fl.StringVar(&f.jwtAlg, "jwt-algorithm", "", "JWT algorithm (default HS256)")
		fl.Int64Var(&f.jwtExpiringSec, "jwt-expiring-sec", 0, "if > 0, require exp - iat to be exactly this")
		fl.BoolVar(&f.jwtVerifyUpload, "jwt-verify-upload", false, "check epochs, send_object_to and size against the JWT's claims")
		fl.IntVar(&f.jwtCacheSize, "jwt-cache-size", 10_000, "JWT IDs remembered against replays")
		fl.DurationVar(&f.jwtCacheRefresh, "jwt-cache-refresh-interval", 5*time.Second, "no effect (expired JWT IDs are dropped when the cache is full)")
		_ = fl.MarkHidden("keep")
	}
}

// config turns the flags into the gateway's configuration.
func (f *daemonFlags) config() (gateway.Config, error) {
	c := gateway.Config{Aggregator: f.aggregator, Publisher: f.publisher, BindAddress: f.bind, MetricsAddress: f.metrics,
		BlocklistPath: f.blocklist, ReadHeaderTimeout: f.readHeaderTimeout, IdleTimeout: f.idleTimeout,
		ReadTimeout: f.readTimeout, WriteTimeout: f.writeTimeout}
	// The flags' zero means none; the configuration's zero means the default.
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = -1
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = -1
	}
	if f.aggregator {
		c.AllowedHeaders, c.AllowQuiltPatchTagsInResponse, c.MaxBlobSize = f.allowedHeaders, f.allowQuiltTags, f.maxBlobSize
		c.AggregatorConcurrency, c.AggregatorBuffer, c.CacheTTL = f.aggConcurrency, f.aggBuffer, f.cacheTTL
		n, err := cmdenv.ParseSize(f.cacheSize)
		if err != nil {
			return c, fmt.Errorf("--cache-size: %w", err)
		}
		c.CacheSize = n
		if n == 0 {
			c.CacheSize = -1
		}
	}
	if f.publisher {
		c.MaxBodySize, c.MaxQuiltBodySize = f.maxBodyKiB<<10, f.maxQuilt<<10
		c.PublisherConcurrency, c.PublisherBuffer, c.BurnAfterStore = f.pubConcurrency, f.pubBuffer, f.burnAfterStore
		mem, err := cmdenv.ParseSize(f.memoryBudget)
		if err != nil || mem < 64<<20 {
			return c, fmt.Errorf("--memory-budget %q: want a size of at least 64MiB", f.memoryBudget)
		}
		c.MemoryBudget, c.TempDir = mem, f.tempDir
		rate, err := cmdenv.ParseSize(f.minBodyRate)
		if err != nil || rate < 0 {
			return c, fmt.Errorf("--min-body-rate %q: want a size per second, e.g. 32KiB, or 0 for none", f.minBodyRate)
		}
		c.MinBodyRate, c.BodyIdleTimeout, c.BodyRateGrace = rate, f.bodyIdleTimeout, f.bodyRateGrace
		if rate == 0 {
			c.MinBodyRate = -1
		}
		if c.BodyIdleTimeout == 0 {
			c.BodyIdleTimeout = -1
		}
		if c.BodyRateGrace <= 0 {
			c.BodyRateGrace = -1 // no grace: the rate applies at once
		}
		c.Wallets = gateway.WalletsConfig{N: f.nClients, Dir: f.subWalletsDir, MinBalance: f.minBalance, RefillAmount: f.refill,
			RefillInterval: f.refillInterval}
		if f.jwtSecret != "" || f.jwtExpiringSec > 0 || f.jwtVerifyUpload {
			c.Auth = &gateway.AuthConfig{Secret: f.jwtSecret, Algorithm: f.jwtAlg, ExpiringSec: f.jwtExpiringSec,
				VerifyUpload: f.jwtVerifyUpload, ReplayCacheSize: f.jwtCacheSize}
		}
	}
	return c, nil
}

func newAggregatorCmd(e *env) *cobra.Command {
	return newServiceCmd(e, "aggregator", "Serve the Walrus HTTP API for reading blobs (GET /v1/blobs/…, quilts)", true, false)
}

func newPublisherCmd(e *env) *cobra.Command {
	return newServiceCmd(e, "publisher", "Serve the Walrus HTTP API for storing blobs (PUT /v1/blobs, PUT /v1/quilts)", false, true)
}

func newDaemonCmd(e *env) *cobra.Command {
	return newServiceCmd(e, "daemon", "Serve the Walrus HTTP API for reading and storing blobs (aggregator and publisher)", true, true)
}

func newServiceCmd(e *env, name, short string, agg, pub bool) *cobra.Command {
	f := &daemonFlags{aggregator: agg, publisher: pub}
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Long: short + `.

The API is Walrus's (see GET /v1/api for its OpenAPI document); errors are AIP-193 JSON. The
publisher pays with the wallet's WAL through --n-clients sub-wallets that it funds from the
wallet, so that concurrent stores do not wait on one another; the Blob objects it creates go to
the wallet (or to ?send_object_to=). Runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runService(cmd.Context(), e, f) },
	}
	f.add(cmd)
	return cmd
}

// serviceInfo is the --json output of a service once it listens.
type serviceInfo struct {
	Address        string `json:"address"`
	MetricsAddress string `json:"metricsAddress,omitempty"`
	Aggregator     bool   `json:"aggregator"`
	Publisher      bool   `json:"publisher"`
}

func runService(ctx context.Context, e *env, f *daemonFlags) error {
	cfg, err := f.config()
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	s, err := e.Connect(ctx, f.publisher)
	if err != nil {
		return err
	}
	defer s.Close()
	var key ed25519.PrivateKey
	if f.publisher && f.subWalletsDir == "" {
		if key, err = wallet.Load(e.WalletPath(s.Cfg)); err != nil {
			return fmt.Errorf("wallet: %w", err)
		}
	}
	cfg.Wallets.Client = s.Cfg.CommunicationConfig
	log := slog.New(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := gateway.New(ctx, cfg, gateway.Deps{Client: s.Client, Key: key, Logger: log})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	info := serviceInfo{Address: srv.Addr(), MetricsAddress: srv.MetricsAddr(), Aggregator: f.aggregator, Publisher: f.publisher}
	if e.JSON {
		if err := e.PrintJSON(info); err != nil {
			_ = srv.Close()
			return err
		}
	}
	roles := []string{}
	if f.aggregator {
		roles = append(roles, "aggregator")
	}
	if f.publisher {
		roles = append(roles, "publisher")
	}
	e.Say("Walrus %s listening on http://%s (metrics: %s); Ctrl-C stops it.", strings.Join(roles, " and "), info.Address, orNone(info.MetricsAddress))
	<-ctx.Done()
	e.Say("Stopping…")
	return srv.Close()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return "http://" + s + "/metrics"
}
