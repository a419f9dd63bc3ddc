package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Defaults (Walrus's where Walrus has one).
const (
	DefaultBindAddress       = "127.0.0.1:31415"
	DefaultMetricsAddress    = "127.0.0.1:27182"
	DefaultMaxBodySize       = 10 << 20  // 10 MiB (Walrus: --max-body-size 10240 KiB)
	DefaultMaxQuiltBodySize  = 100 << 20 // 100 MiB (Walrus: --max-quilt-body-size 102400 KiB)
	DefaultPublisherRequests = 8         // Walrus: --max-concurrent-requests
	DefaultPublisherBuffer   = 8         // Walrus: --max-buffer-size
	DefaultAggregatorReqs    = 256       // Walrus: --aggregator-max-concurrent-requests
	DefaultAggregatorBuffer  = 320       // Walrus: --aggregator-max-buffer-size
	DefaultCacheSize         = 256 << 20
	DefaultCacheTTL          = 5 * time.Minute
	DefaultMemoryBudget      = 1 << 30
	DefaultBlocklistReload   = 5 * time.Second
	DefaultEpochs            = 1 // Walrus's publisher default

	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultBodyIdleTimeout   = 10 * time.Second
	DefaultMinBodyRate       = 32 << 10 // bytes per second
	DefaultBodyRateGrace     = 5 * time.Second
)

// DefaultAllowedHeaders are the blob attributes returned as response
// headers by GET /v1/blobs/by-object-id (Walrus's default allow-list).
var DefaultAllowedHeaders = []string{"content-type", "authorization", "content-disposition", "content-encoding",
	"content-language", "content-location", "link"}

// Config configures a Server. Zero values take the defaults (see
// WithDefaults); Validate reports every problem at once.
type Config struct {
	// Aggregator serves the read routes; Publisher the store routes (a
	// daemon both). At least one must be set.
	Aggregator bool `yaml:"aggregator"`
	Publisher  bool `yaml:"publisher"`
	// BindAddress is where the API listens (default 127.0.0.1:31415; port
	// 0 picks one).
	BindAddress string `yaml:"bind_address"`
	// MetricsAddress is where Prometheus metrics are served at /metrics
	// (default 127.0.0.1:27182; "off" serves none).
	MetricsAddress string `yaml:"metrics_address"`

	// MaxBodySize bounds PUT /v1/blobs bodies, in bytes (default 10 MiB).
	MaxBodySize int64 `yaml:"max_body_size"`
	// MaxQuiltBodySize bounds PUT /v1/quilts bodies (default 100 MiB).
	MaxQuiltBodySize int64 `yaml:"max_quilt_body_size"`
	// MaxBlobSize, if set, makes the aggregator refuse blobs larger than
	// this (403, as Walrus's --max-blob-size).
	MaxBlobSize uint64 `yaml:"max_blob_size"`

	// PublisherConcurrency requests store at once; PublisherBuffer more
	// wait; beyond them a request gets 429 at once (default 8 and 8).
	PublisherConcurrency int `yaml:"max_concurrent_requests"`
	PublisherBuffer      int `yaml:"max_buffer_size"`
	// AggregatorConcurrency and AggregatorBuffer are the same for reads
	// (default 256 and 320).
	AggregatorConcurrency int `yaml:"aggregator_max_concurrent_requests"`
	AggregatorBuffer      int `yaml:"aggregator_max_buffer_size"`

	// AllowedHeaders are the blob attributes returned as headers by the
	// by-object-id route (default DefaultAllowedHeaders; case-insensitive).
	AllowedHeaders []string `yaml:"allowed_headers"`
	// AllowQuiltPatchTagsInResponse returns every tag of a quilt patch as
	// a header, not only allow-listed ones.
	AllowQuiltPatchTagsInResponse bool `yaml:"allow_quilt_patch_tags_in_response"`

	// BlocklistPath is a file of blocked blob IDs (a YAML list, or one per
	// line); blocked blobs are neither served nor stored (451). It is
	// re-read every BlocklistReload (default 5s) when it changed.
	BlocklistPath   string        `yaml:"blocklist"`
	BlocklistReload time.Duration `yaml:"blocklist_reload_interval"`

	// CacheSize bounds the decoded blobs and patches kept in memory, in
	// bytes (default 256 MiB; negative: no cache). Entries live at most
	// CacheTTL (default 5 minutes) and never past the blob's expiry.
	CacheSize int64         `yaml:"cache_size"`
	CacheTTL  time.Duration `yaml:"cache_ttl"`

	// DefaultEpochs is the epochs of a store without ?epochs= (default 1).
	DefaultEpochs uint32 `yaml:"default_epochs"`
	// BurnAfterStore burns the Blob objects the publisher creates (unless
	// sent to an address or shared); otherwise they go to the publisher's
	// main wallet.
	BurnAfterStore bool `yaml:"burn_after_store"`

	// MemoryBudget is the memory the publisher's stores share (default 1
	// GiB): each of PublisherConcurrency stores gets an equal part (at
	// least 64 MiB), whatever the blob's size; bodies are spooled to
	// TempDir, never held in memory.
	MemoryBudget int64 `yaml:"memory_budget"`
	// TempDir is where request bodies are spooled (default: the system's
	// temporary directory).
	TempDir string `yaml:"temp_dir"`

	// ReadHeaderTimeout bounds the reading of a request's headers (default
	// 10s) and IdleTimeout the wait of a kept-alive connection for its
	// next request (default 2 minutes); negative: no bound.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// ReadTimeout and WriteTimeout bound the reading of a whole request and
	// the writing of a whole answer (http.Server's; default 0: none). Any
	// bound there would cut legitimate large uploads and streamed reads, so
	// the publisher's bodies have deadlines of their own instead (below),
	// which replace ReadTimeout for them.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// BodyIdleTimeout is the longest a PUT body may send nothing: before
	// its first byte, which it must send before it takes an admission slot,
	// and between two bytes once admitted (default 10s; negative: no bound).
	BodyIdleTimeout time.Duration `yaml:"body_idle_timeout"`
	// MinBodyRate is the average rate, in bytes per second, that a PUT body
	// must keep from its admission on, once BodyRateGrace has passed
	// (defaults 32 KiB/s and 5s; a negative rate: no minimum; a negative
	// grace: none, the rate applies at once). A body that falls behind, or
	// idles too long, is answered 408 and frees its slot.
	MinBodyRate   int64         `yaml:"min_body_rate"`
	BodyRateGrace time.Duration `yaml:"body_rate_grace"`

	// Auth, if set, requires a JWT on the publisher's routes.
	Auth *AuthConfig `yaml:"auth"`
	// Wallets are the publisher's sub-wallets.
	Wallets WalletsConfig `yaml:"wallets"`
}

// WithDefaults returns c with its zero values replaced by the defaults.
func (c Config) WithDefaults() Config {
	if c.BindAddress == "" {
		c.BindAddress = DefaultBindAddress
	}
	if c.MetricsAddress == "" {
		c.MetricsAddress = DefaultMetricsAddress
	}
	if c.MaxBodySize == 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxQuiltBodySize == 0 {
		c.MaxQuiltBodySize = DefaultMaxQuiltBodySize
	}
	if c.PublisherConcurrency == 0 {
		c.PublisherConcurrency = DefaultPublisherRequests
	}
	if c.PublisherBuffer == 0 {
		c.PublisherBuffer = DefaultPublisherBuffer
	}
	if c.AggregatorConcurrency == 0 {
		c.AggregatorConcurrency = DefaultAggregatorReqs
	}
	if c.AggregatorBuffer == 0 {
		c.AggregatorBuffer = DefaultAggregatorBuffer
	}
	if c.AllowedHeaders == nil {
		c.AllowedHeaders = DefaultAllowedHeaders
	}
	if c.BlocklistReload == 0 {
		c.BlocklistReload = DefaultBlocklistReload
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.DefaultEpochs == 0 {
		c.DefaultEpochs = DefaultEpochs
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.BodyIdleTimeout == 0 {
		c.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if c.MinBodyRate == 0 {
		c.MinBodyRate = DefaultMinBodyRate
	}
	if c.BodyRateGrace == 0 {
		c.BodyRateGrace = DefaultBodyRateGrace
	}
	if c.Auth != nil {
		a := c.Auth.withDefaults()
		c.Auth = &a
	}
	return c
}

// Validate reports every problem of the configuration (after defaults).
func (c *Config) Validate() error {
	var errs []error
	if !c.Aggregator && !c.Publisher {
		errs = append(errs, errors.New("gateway: neither aggregator nor publisher is enabled"))
	}
	if _, _, err := net.SplitHostPort(c.BindAddress); err != nil {
		errs = append(errs, fmt.Errorf("gateway: bind address %q: %w", c.BindAddress, err))
	}
	if c.MetricsAddress != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			errs = append(errs, fmt.Errorf("gateway: metrics address %q: %w", c.MetricsAddress, err))
		}
	}
	if c.MaxBodySize < 0 || c.MaxQuiltBodySize < 0 {
		errs = append(errs, errors.New("gateway: body size limits must be positive"))
	}
	if c.PublisherConcurrency < 0 || c.PublisherBuffer < 0 || c.AggregatorConcurrency < 0 || c.AggregatorBuffer < 0 {
		errs = append(errs, errors.New("gateway: concurrency limits and buffers must not be negative"))
	}
	for _, h := range c.AllowedHeaders {
		if !validHeaderName(h) {
			errs = append(errs, fmt.Errorf("gateway: allowed header %q is not a header name", h))
		}
	}
	if c.MemoryBudget < 0 {
		errs = append(errs, errors.New("gateway: memory_budget must not be negative"))
	}
	if c.BlocklistReload < 0 || c.CacheTTL < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0 {
		errs = append(errs, errors.New("gateway: durations must not be negative"))
	}
	if c.Wallets.N < 0 || c.Wallets.RefillInterval < 0 {
		errs = append(errs, errors.New("gateway: n_clients and refill_interval must not be negative"))
	}
	if c.Auth != nil {
		if err := c.Auth.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r >= 0x7f || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return http.CanonicalHeaderKey(s) != ""
}
