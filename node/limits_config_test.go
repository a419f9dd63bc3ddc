package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigLimits: the API's limits are read from the api.limits
// section of node_config.yaml, checked by Validate, and a misspelt key
// is an error like any other.
func TestConfigLimits(t *testing.T) {
	const base = `name: n
storage_path: db
protocol_key_pair: {path: p.key}
network_key_pair: {path: n.key}
wallet_path: w.json
public_host: 127.0.0.1
chain: {rpc: "http://127.0.0.1:1"}
`
	load := func(api string) (*Config, error) {
		path := filepath.Join(t.TempDir(), "node_config.yaml")
		if err := os.WriteFile(path, []byte(base+api), 0o600); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(path)
	}
	c, err := load(`api:
  upload_wait: 5s
  limits:
    max_connections: 1000
    max_connections_per_ip: 50
    max_concurrent_requests: 300
    read_header_timeout: 5s
    idle_timeout: 1m
    max_header_bytes: 8192
    min_transfer_rate: 32768
    transfer_grace: 20s
    max_clients: 1000
    health: {rate: 10, burst: 20, max_concurrent: 8}
    sliver_reads: {rate: -1}
    uploads: {rate: 50, max_concurrent: 16}
`)
	if err != nil {
		t.Fatal(err)
	}
	l := c.API.Limits
	if l.MaxConnections != 1000 || l.MaxConnectionsPerIP != 50 || l.MaxConcurrentRequests != 300 || l.ReadHeaderTimeout != 5*time.Second ||
		l.IdleTimeout != time.Minute || l.MaxHeaderBytes != 8192 || l.MinTransferRate != 32768 || l.TransferGrace != 20*time.Second ||
		l.MaxClients != 1000 || l.Health.Rate != 10 || l.Health.Burst != 20 || l.Health.MaxConcurrent != 8 || l.SliverReads.Rate != -1 ||
		l.Uploads.Rate != 50 || l.Uploads.MaxConcurrent != 16 {
		t.Fatalf("limits %+v", l)
	}
	if _, err := load("api: {limits: {uploads: {burst: -3}}}\n"); err == nil || !strings.Contains(err.Error(), "limits.uploads.burst") {
		t.Fatalf("a negative burst: %v", err)
	}
	if _, err := load("api: {limits: {max_conections: 5}}\n"); err == nil || !strings.Contains(err.Error(), "max_conections") {
		t.Fatalf("a misspelt limit: %v", err)
	}
}
