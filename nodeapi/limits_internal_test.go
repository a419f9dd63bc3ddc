package nodeapi

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// manualTime is a clock that moves only when told.
type manualTime struct{ t time.Time }

func (m *manualTime) now() time.Time { return m.t }

func (m *manualTime) advance(d time.Duration) { m.t = m.t.Add(d) }

func testTable(t *testing.T, c LimitsConfig) (*rateTable, *manualTime) {
	t.Helper()
	clk := &manualTime{t: time.Unix(1000, 0)}
	rt := newRateTable(c.withDefaults(), clk.now)
	if rt == nil {
		t.Fatal("no rate table")
	}
	return rt, clk
}

// TestTokenBucket: a client gets its burst at once, then the rate; an
// empty bucket says when its next token comes; clients and classes have
// buckets of their own.
func TestTokenBucket(t *testing.T) {
	rt, clk := testTable(t, LimitsConfig{Uploads: RouteLimit{Rate: 10, Burst: 5}})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 5 {
		if _, ok := rt.take(classUploads, a); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	wait, ok := rt.take(classUploads, a)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("beyond the burst: ok %v, wait %v (want ≤ 100ms)", ok, wait)
	}
	if _, ok := rt.take(classUploads, b); !ok {
		t.Fatal("another client was refused")
	}
	if _, ok := rt.take(classSliverReads, a); !ok {
		t.Fatal("another class of the same client was refused")
	}
	clk.advance(100 * time.Millisecond) // one token at 10/s
	if _, ok := rt.take(classUploads, a); !ok {
		t.Fatal("the refilled token was refused")
	}
	if _, ok := rt.take(classUploads, a); ok {
		t.Fatal("a second token after 100ms at 10/s")
	}
	clk.advance(time.Hour) // refills to the burst, not beyond
	n := 0
	for {
		if _, ok := rt.take(classUploads, a); !ok {
			break
		}
		n++
	}
	if n != 5 {
		t.Fatalf("after an hour: %d tokens, want the burst of 5", n)
	}
}

// TestRateTableForgetsIdleClients: a client unseen long enough for its
// buckets to refill is dropped (the table does not grow with every
// address ever seen), and the table never holds more than MaxClients.
func TestRateTableForgetsIdleClients(t *testing.T) {
	rt, clk := testTable(t, LimitsConfig{})
	for i := range 100 {
		rt.take(classSliverReads, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if n := rt.clients(); n != 100 {
		t.Fatalf("%d clients held, want 100", n)
	}
	clk.advance(rt.full)
	// Each shard forgets its idle clients when it is next used.
	for i := range 1000 {
		rt.take(classHealth, netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}))
		clk.advance(rt.full)
	}
	if n := rt.clients(); n > rateShards {
		t.Fatalf("%d clients held after every client went idle, want at most one per shard", n)
	}
	if rt.full > 3*time.Second {
		t.Errorf("buckets take %v to refill with the defaults", rt.full)
	}
	// Many active clients at once: never more than MaxClients (whole
	// shards of it).
	small, _ := testTable(t, LimitsConfig{MaxClients: 160})
	for i := range 5000 {
		small.take(classSliverReads, netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}))
	}
	if n := small.clients(); n > 160 || n < 100 {
		t.Fatalf("%d clients held, want up to max_clients 160", n)
	}
}

// TestClientKey: the client of a request is its IP address, IPv4-mapped
// addresses are IPv4, and IPv6 clients are their /64.
func TestClientKey(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.7:4321", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4321", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::"},
		{"[fe80::1%eth0]:80", "fe80::"},
		{"192.0.2.9", "192.0.2.9"},
	} {
		if got := clientKey(c.remote); got != netip.MustParseAddr(c.want) {
			t.Errorf("clientKey(%q) = %v, want %v", c.remote, got, c.want)
		}
	}
	if got := clientKey("garbage"); got.IsValid() {
		t.Errorf("clientKey(garbage) = %v", got)
	}
}

// TestLimitsConfig: the defaults, a burst of twice the rate when only
// the rate is given, limits turned off, and what Validate refuses.
func TestLimitsConfig(t *testing.T) {
	d := Config{}.withDefaults().Limits
	if d.MaxConnections != 4096 || d.MaxConnectionsPerIP != 256 || d.MaxConcurrentRequests != 1024 ||
		d.ReadHeaderTimeout != 10*time.Second || d.MinTransferRate != 64<<10 || d.TransferGrace != 10*time.Second ||
		d.Uploads != (RouteLimit{Rate: 500, Burst: 1000, MaxConcurrent: 128}) || d.SliverReads.MaxConcurrent != -1 {
		t.Fatalf("defaults %+v", d)
	}
	c := LimitsConfig{Symbols: RouteLimit{Rate: 3}, Uploads: RouteLimit{Rate: -1}, SliverReads: RouteLimit{Rate: 0.2}}.withDefaults()
	if c.Symbols.Burst != 6 || c.SliverReads.Burst != 1 || c.Uploads.Burst != 0 {
		t.Fatalf("bursts %+v %+v %+v", c.Symbols, c.SliverReads, c.Uploads)
	}
	rt := newRateTable(c, time.Now)
	for i := range 10000 {
		if _, ok := rt.take(classUploads, netip.MustParseAddr("192.0.2.1")); !ok {
			t.Fatalf("upload %d refused with its rate turned off", i)
		}
	}
	off := LimitsConfig{}
	for _, r := range off.routes() {
		r.Rate = -1
	}
	if newRateTable(off.withDefaults(), time.Now) != nil {
		t.Fatal("a rate table with every rate off")
	}
	bad := Config{Limits: LimitsConfig{MaxHeaderBytes: -1, TransferGrace: -1, Uploads: RouteLimit{Burst: -2}}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("negative limits accepted")
	}
	for _, want := range []string{"limits.max_header_bytes", "limits.transfer_grace", "limits.uploads.burst"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
	ok := Config{Limits: LimitsConfig{MaxConnections: -1, MaxConcurrentRequests: -1, MinTransferRate: -1, ReadHeaderTimeout: -1}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("limits turned off refused: %v", err)
	}
}
