package nodeapi

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"time"
)

// clientKey is the address a client is limited by: its IP address, with
// an IPv4-mapped IPv6 address as the IPv4 one and an IPv6 address cut to
// its /64 (the block one subscriber usually holds, so that a client cannot
// escape its limits by picking other addresses of its own network). A
// remote address that does not parse is the zero Addr: such clients share
// one bucket.
func clientKey(remoteAddr string) netip.Addr {
	a, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		ip, err := netip.ParseAddr(remoteAddr)
		if err != nil {
			return netip.Addr{}
		}
		return maskClient(ip)
	}
	return maskClient(a.Addr())
}

// connKey is clientKey of a connection's remote address.
func connKey(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return maskClient(t.AddrPort().Addr())
	}
	if a == nil {
		return netip.Addr{}
	}
	return clientKey(a.String())
}

func maskClient(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}

// rateShards is the number of independently locked parts of the rate
// table, so that requests of different clients rarely wait on one lock.
const rateShards = 16

// rateTable holds a token bucket per client and rated class. Its memory
// is bounded: a client unseen long enough for every bucket to be full
// again is forgotten, which changes nothing (it would come back to full
// buckets), and beyond MaxClients the least recently seen client is
// forgotten (it comes back to full buckets: only a crowd of more than
// MaxClients active addresses gains from that).
type rateTable struct {
	classes [numRated]rateClass
	// full is the time in which every bucket refills from empty.
	full   time.Duration
	seed   maphash.Seed
	start  time.Time
	now    func() time.Time
	shards [rateShards]rateShard
}

// rateClass is a class's bucket: rate tokens per second, at most burst.
// A zero rate means no bucket.
type rateClass struct{ rate, burst float64 }

// rateShard is a part of the table: a map of clients and a list of them,
// most recently seen first.
type rateShard struct {
	mu  sync.Mutex
	m   map[netip.Addr]*rateEntry
	lru rateEntry // sentinel: lru.next is the most recently seen entry
	max int
}

// rateEntry is one client's buckets.
type rateEntry struct {
	key        netip.Addr
	seen       time.Duration // since the table's start
	prev, next *rateEntry
	tokens     [numRated]float64
	last       [numRated]time.Duration // of each bucket's last refill
}

// newRateTable builds the table of c's rates (nil when no class has one);
// now is its clock.
func newRateTable(c LimitsConfig, now func() time.Time) *rateTable {
	t := &rateTable{seed: maphash.MakeSeed(), now: now}
	t.start = now()
	rated := false
	for i, r := range c.routes() {
		if r.Rate <= 0 {
			continue
		}
		rated = true
		t.classes[i] = rateClass{rate: r.Rate, burst: float64(r.Burst)}
		t.full = max(t.full, time.Duration(float64(r.Burst)/r.Rate*float64(time.Second))+time.Millisecond)
	}
	if !rated {
		return nil
	}
	per := max(1, (c.MaxClients+rateShards-1)/rateShards)
	for i := range t.shards {
		sh := &t.shards[i]
		sh.m, sh.max = make(map[netip.Addr]*rateEntry), per
		sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
	}
	return t
}

// take takes a token of class c from the client's bucket. When the bucket
// is empty it reports false and how long until a token is back.
func (t *rateTable) take(c class, key netip.Addr) (wait time.Duration, ok bool) {
	if t == nil || t.classes[c].rate <= 0 {
		return 0, true
	}
	rc := t.classes[c]
	now := t.now().Sub(t.start)
	sh := &t.shards[maphash.Comparable(t.seed, key)%rateShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.expire(now, t.full)
	e := sh.m[key]
	if e == nil {
		if len(sh.m) >= sh.max {
			sh.remove(sh.lru.prev)
		}
		e = &rateEntry{key: key}
		for i, k := range t.classes {
			e.tokens[i], e.last[i] = k.burst, now
		}
		sh.m[key] = e
	} else {
		sh.unlink(e)
	}
	sh.pushFront(e)
	e.seen = now
	tokens := min(rc.burst, e.tokens[c]+(now-e.last[c]).Seconds()*rc.rate)
	e.last[c] = now
	if tokens >= 1 {
		e.tokens[c] = tokens - 1
		return 0, true
	}
	e.tokens[c] = tokens
	return time.Duration((1 - tokens) / rc.rate * float64(time.Second)), false
}

// clients is the number of clients the table holds.
func (t *rateTable) clients() int {
	if t == nil {
		return 0
	}
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// expire forgets the clients unseen for at least full: their buckets are
// full again. The list is in order of last sight, so it stops at the
// first client seen since.
func (sh *rateShard) expire(now, full time.Duration) {
	for e := sh.lru.prev; e != &sh.lru && now-e.seen >= full; e = sh.lru.prev {
		sh.remove(e)
	}
}

func (sh *rateShard) remove(e *rateEntry) {
	sh.unlink(e)
	delete(sh.m, e.key)
}

func (sh *rateShard) unlink(e *rateEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (sh *rateShard) pushFront(e *rateEntry) {
	e.prev, e.next = &sh.lru, sh.lru.next
	sh.lru.next.prev = e
	sh.lru.next = e
}
