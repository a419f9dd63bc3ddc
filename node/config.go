package node

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/internal/fsutil"
	"github.com/walrus-go/walrus/nodeapi"
)

// DefaultRESTPort is Walrus's storage-node port.
const DefaultRESTPort = 9185

// Config is a storage node's configuration: node_config.yaml. Paths are
// absolute or relative to the file (LoadConfig resolves them).
type Config struct {
	// Name is the node's name on chain.
	Name string `yaml:"name"`
	// StoragePath is the database directory.
	StoragePath string `yaml:"storage_path"`
	// ProtocolKeyPair is the BLS key that signs confirmations.
	ProtocolKeyPair KeyFile `yaml:"protocol_key_pair"`
	// NetworkKeyPair is the P-256 key registered for the node's TLS identity.
	NetworkKeyPair KeyFile `yaml:"network_key_pair"`
	// WalletPath is the operator account (a Sui-style keystore) that pays for
	// and signs the node's transactions.
	WalletPath string `yaml:"wallet_path"`
	// RESTAPIAddress is where the API listens (default 0.0.0.0:9185).
	RESTAPIAddress string `yaml:"rest_api_address"`
	// PublicHost and PublicPort form the address registered on chain, the
	// one clients and other nodes use.
	PublicHost string `yaml:"public_host"`
	PublicPort int    `yaml:"public_port"`
	// MetricsAddress is where Prometheus metrics are served ("" = off).
	MetricsAddress string `yaml:"metrics_address"`
	// PprofAddress is where Go's profiling endpoints (/debug/pprof/) are
	// served ("" = off). Bind it to loopback: profiles reveal internals.
	PprofAddress string `yaml:"pprof_address,omitempty"`
	// BlocklistPath is a file of blob IDs the node neither stores nor serves.
	BlocklistPath string `yaml:"blocklist_path,omitempty"`
	// BlocklistReload is how often the blocklist file is checked for
	// changes (default 10s).
	BlocklistReload time.Duration `yaml:"blocklist_reload_interval,omitempty"`
	// DBCacheSize is the database block cache in bytes (default 64 MiB).
	DBCacheSize int64 `yaml:"db_cache_size,omitempty"`
	// SliverFileThreshold is the size from which a sliver is kept in a file
	// of its own beside the database instead of in it (default 64 KiB;
	// negative: never). See package store.
	SliverFileThreshold int `yaml:"sliver_file_threshold,omitempty"`
	// Chain is how to reach the chain.
	Chain chainclient.Config `yaml:"chain"`
	// CommissionRate (basis points) and VotingParams are what register
	// declares.
	CommissionRate uint16       `yaml:"commission_rate"`
	VotingParams   VotingParams `yaml:"voting_params"`
	// API configures the REST server.
	API nodeapi.Config `yaml:"api,omitempty"`
	// Recovery configures blob sync.
	Recovery RecoveryConfig `yaml:"blob_recovery,omitempty"`
	// TLS configures the REST API's transport (Walrus's tls section).
	TLS TLSConfig `yaml:"tls,omitempty"`
}

// TLSConfig is how the REST API is served. By default the node serves a
// self-signed certificate for its network key (the key registered on
// chain, which clients and peers pin); CertificatePath gives a PEM
// certificate chain for that same key instead, for example one from a
// public CA so that browsers can reach the node.
type TLSConfig struct {
	// DisableTLS serves plain HTTP and reaches peers over plain HTTP: for
	// debugging a network whose nodes all disable it, or behind a proxy
	// that terminates TLS for the node.
	DisableTLS bool `yaml:"disable_tls,omitempty"`
	// CertificatePath is a PEM certificate chain whose leaf carries the
	// network key ("": self-signed).
	CertificatePath string `yaml:"certificate_path,omitempty"`
}

// KeyFile names a key on disk.
type KeyFile struct {
	Path string `yaml:"path"`
}

// VotingParams are the node's votes on prices and capacity.
type VotingParams struct {
	StoragePrice uint64 `yaml:"storage_price"`
	WritePrice   uint64 `yaml:"write_price"`
	NodeCapacity uint64 `yaml:"node_capacity"`
}

// RecoveryConfig configures blob sync (recovery of missing slivers).
type RecoveryConfig struct {
	// MaxConcurrentBlobs is how many blobs are recovered at once (default 4).
	MaxConcurrentBlobs int `yaml:"max_concurrent_blob_syncs"`
	// RetryInterval is the first wait before a failed blob is tried again;
	// it doubles up to a minute (default 1s).
	RetryInterval time.Duration `yaml:"retry_interval"`
	// RequestTimeout bounds one request to a peer (default 60s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// MaxResponseBytes is the size the node aims for in one decodingSymbols
	// answer (default 32 MiB).
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
}

// PublicAddress is the host:port registered on chain.
func (c *Config) PublicAddress() string {
	return net.JoinHostPort(c.PublicHost, strconv.Itoa(c.PublicPort))
}

// withDefaults fills zero values.
func (c Config) withDefaults() Config {
	if c.RESTAPIAddress == "" {
		c.RESTAPIAddress = "0.0.0.0:" + strconv.Itoa(DefaultRESTPort)
	}
	if c.PublicPort == 0 {
		c.PublicPort = DefaultRESTPort
	}
	if c.BlocklistReload == 0 {
		c.BlocklistReload = 10 * time.Second
	}
	r := &c.Recovery
	if r.MaxConcurrentBlobs == 0 {
		r.MaxConcurrentBlobs = 4
	}
	if r.RetryInterval == 0 {
		r.RetryInterval = time.Second
	}
	if r.RequestTimeout == 0 {
		r.RequestTimeout = 60 * time.Second
	}
	if r.MaxResponseBytes == 0 {
		r.MaxResponseBytes = 32 << 20
	}
	return c
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	req := func(name, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("node: %s is required", name))
		}
	}
	req("name", c.Name)
	req("storage_path", c.StoragePath)
	req("protocol_key_pair.path", c.ProtocolKeyPair.Path)
	req("network_key_pair.path", c.NetworkKeyPair.Path)
	req("wallet_path", c.WalletPath)
	req("public_host", c.PublicHost)
	req("chain.rpc", c.Chain.RPC)
	if c.PublicPort < 0 || c.PublicPort > 65535 {
		errs = append(errs, fmt.Errorf("node: public_port %d out of range", c.PublicPort))
	}
	for name, addr := range map[string]string{"rest_api_address": c.RESTAPIAddress, "metrics_address": c.MetricsAddress, "pprof_address": c.PprofAddress} {
		if addr != "" {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				errs = append(errs, fmt.Errorf("node: %s: %w", name, err))
			}
		}
	}
	if c.CommissionRate > 10_000 {
		errs = append(errs, fmt.Errorf("node: commission_rate %d above 10000 basis points", c.CommissionRate))
	}
	if c.Recovery.MaxConcurrentBlobs < 0 || c.Recovery.RetryInterval < 0 || c.Recovery.RequestTimeout < 0 || c.Recovery.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("node: blob_recovery values must not be negative"))
	}
	if c.BlocklistReload < 0 || c.DBCacheSize < 0 {
		errs = append(errs, errors.New("node: blocklist_reload_interval and db_cache_size must not be negative"))
	}
	if err := c.API.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// LoadConfig reads a node_config.yaml, resolves its relative paths against
// the file's directory, fills defaults and validates it.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("node: %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c.resolve(filepath.Dir(abs))
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("node: %s: %w", path, err)
	}
	return &c, nil
}

// resolve makes relative paths relative to dir.
func (c *Config) resolve(dir string) {
	for _, p := range []*string{&c.StoragePath, &c.ProtocolKeyPair.Path, &c.NetworkKeyPair.Path, &c.WalletPath, &c.BlocklistPath, &c.TLS.CertificatePath} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// WriteConfig writes c as YAML to path (replacing it atomically).
func WriteConfig(path string, c *Config) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, b, 0o600)
}
