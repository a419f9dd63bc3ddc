package gateway

import (
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		h             string
		size          uint64
		start, length uint64
		ok            bool
	}{
		{"bytes=0-9", 100, 0, 10, true}, {"bytes=90-200", 100, 90, 10, true}, {"bytes=95-", 100, 95, 5, true},
		{"bytes=-10", 100, 90, 10, true}, {"bytes=-1000", 100, 0, 100, true}, {"bytes=100-", 100, 0, 0, false},
		{"bytes=0-0", 0, 0, 0, false}, {"bytes = 1-2", 10, 1, 2, true},
		// Valid but unsatisfiable: a zero suffix, a start past any blob.
		{"bytes=-0", 100, 0, 0, false}, {"bytes=99999999999999999999-", 100, 0, 0, false},
		{"bytes=99999999999999999999-99999999999999999999", 100, 0, 0, false},
		// Positions too large for an int64 are past the end.
		{"bytes=0-99999999999999999999", 100, 0, 100, true}, {"bytes=-99999999999999999999", 100, 0, 100, true},
		{"bytes=7-0000000000000000000000000000000000000009", 100, 7, 3, true},
	} {
		r, ok := parseRange(c.h)
		if !ok {
			t.Fatalf("%q ignored", c.h)
		}
		s, n, ok := r.resolve(c.size)
		if ok != c.ok || (ok && (s != c.start || n != c.length)) {
			t.Fatalf("%q on %d: %d+%d %v", c.h, c.size, s, n, ok)
		}
	}
	// Ignored (RFC 9110 14.2: the whole blob is served): malformed values,
	// other units, several ranges, an end below the start.
	for _, h := range []string{"", "bytes", "bytes=", "bytes=a-1", "bytes=2-1", "bytes=1-2,3-4", "bits=1-2", "bytes=--1",
		"bytes=1-+2", "bytes=abc", "items=0-4", "bytes=99999999999999999999-5", "bytes=-", "bytes=1-2x"} {
		if _, ok := parseRange(h); ok {
			t.Fatalf("%q accepted", h)
		}
	}
}

func TestCache(t *testing.T) {
	now := time.Unix(0, 0)
	c := newCache[int, string](100, func() time.Time { return now })
	c.put(1, "a", 20, now.Add(time.Minute))
	c.put(2, "b", 20, now.Add(time.Second))
	c.put(3, "too big", 26, now.Add(time.Minute)) // > limit/4: not kept
	if _, ok := c.get(3); ok {
		t.Fatal("kept an entry over a quarter of the cache")
	}
	c.get(1) // 1 is now the most recent
	for i := 4; i < 8; i++ {
		c.put(i, "x", 20, now.Add(time.Minute))
	}
	if _, ok := c.get(2); ok {
		t.Fatal("the least recently used entry survived")
	}
	if _, ok := c.get(1); !ok {
		t.Fatal("a recently used entry was evicted")
	}
	if n, size := c.stats(); size > 100 || n != 5 {
		t.Fatalf("%d entries, %d bytes", n, size)
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.get(1); ok {
		t.Fatal("an expired entry was returned")
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{BindAddress: "nope", MaxBodySize: -1, AllowedHeaders: []string{"bad header"}, Auth: &AuthConfig{Algorithm: "XX1"}}.WithDefaults()
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"neither aggregator", "bind address", "body size", "bad header", "XX1"} {
		if !contains(err.Error(), want) {
			t.Fatalf("%v does not mention %q", err, want)
		}
	}
	good := Config{Aggregator: true}.WithDefaults()
	if err := good.Validate(); err != nil || good.MaxBodySize != 10<<20 || good.BindAddress != "127.0.0.1:31415" {
		t.Fatalf("%v %+v", err, good)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
