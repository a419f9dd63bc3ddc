package rs

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/vectors"
)

func pattern(n int, f func(i int) byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = f(i)
	}
	return b
}

func split(data []byte, k, size int) [][]byte {
	out := make([][]byte, k)
	for i := range out {
		out[i] = data[i*size : (i+1)*size]
	}
	return out
}

func encodeVector(t *testing.T, k, r, size int, data []byte) [][]byte {
	t.Helper()
	c, err := New(k, r)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.EncodeBytes(split(data, k, size))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// Every row of shared/spec/vectors/rs-raw.tsv: 145 encodings across both
// rates, many (k, r) shapes, 2- to 130-byte shards.
func TestRawVectors(t *testing.T) {
	rows, err := vectors.TSV("rs-raw.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 145 {
		t.Fatalf("only %d rows", len(rows))
	}
	rates := map[string]int{}
	for _, row := range rows {
		k, _ := strconv.Atoi(row[0])
		r, _ := strconv.Atoi(row[1])
		size, _ := strconv.Atoi(row[2])
		wantRate := row[3]
		name := strings.Join(row[:4], "/")
		if got := map[bool]string{true: "high", false: "low"}[HighRate(k, r)]; got != wantRate {
			t.Errorf("%s: rate %s", name, got)
		}
		rates[wantRate]++
		data := pattern(k*size, func(i int) byte { return byte(i*31 + 7) })
		rec := encodeVector(t, k, r, size, data)
		if got := hex.EncodeToString(rec[0]); got != row[4] {
			t.Errorf("%s: first recovery\n got %s\nwant %s", name, got, row[4])
		}
		if got := hex.EncodeToString(rec[r-1]); got != row[5] {
			t.Errorf("%s: last recovery\n got %s\nwant %s", name, got, row[5])
		}
		d := blake2b.Sum256(bytes.Join(rec, nil))
		if got := hex.EncodeToString(d[:]); got != row[6] {
			t.Errorf("%s: digest %s want %s", name, got, row[6])
		}
	}
	if rates["high"] == 0 || rates["low"] == 0 {
		t.Fatalf("vectors do not cover both rates: %v", rates)
	}
}

func hexShards(t *testing.T, s string) []string {
	return strings.Fields(s)
}

// The hand-sized vectors of shared/spec/vectors/reed-solomon.md.
func TestSmallVectors(t *testing.T) {
	cases := []struct {
		k, r, size int
		data       []byte
		want       string // space-separated recovery shards, or prefixes of them
		prefix     int    // compare only this many bytes of each shard (0 = all)
		digest     string
	}{
		{4, 6, 2, []byte{0, 1, 2, 3, 4, 5, 6, 7}, "5600 5402 5204 5006 3606 3404", 0, ""},
		{7, 3, 2, pattern(14, func(i int) byte { return byte(i) }), "bb0d 9c03 a206", 0, ""},
		{334, 666, 2, pattern(668, func(i int) byte { return byte(7*i + 3) }), "eace bdb7 3fbf", 0,
			"6d1f4c219a279f75d6d339b666fd0a2a5b7938c58b0288db007d5b1cec374263"},
		{667, 333, 2, pattern(1334, func(i int) byte { return byte(7*i + 3) }), "def5 d7af f9ab", 0,
			"0ea1c0144b9e1545052109e41aec843d987c089a5a959bc408f76a166caef03b"},
		{7, 3, 64, pattern(7*64, func(i int) byte { return byte(7*i + 3) }), "300f5c6305bf88d3 763e145cc1dc60be 6be058d3d70f123c", 8, ""},
		{4, 6, 64, pattern(4*64, func(i int) byte { return byte(7*i + 3) }),
			"98918a8384aaa1b8 58514a43446a6178 18110a03042a2138 d8d1cac3c4eae1f8 e0e9f2fbfc2c273e 2029323b3cece7fe", 8, ""},
		{667, 333, 64, pattern(667*64, func(i int) byte { return byte(7*i + 3) }), "3e8a62d6ac405f1c 7156371034ab73ed 17a447f448755b25", 8, ""},
		{7, 3, 66, pattern(7*66, func(i int) byte { return byte(7*i + 3) }), "aede669850019370 3427052f28806654 6ed8674a9ea3ea2e", 8, ""},
	}
	for _, c := range cases {
		rec := encodeVector(t, c.k, c.r, c.size, c.data)
		for i, w := range hexShards(t, c.want) {
			got := rec[i]
			if c.prefix > 0 {
				got = got[:c.prefix]
			}
			if hex.EncodeToString(got) != w {
				t.Errorf("k=%d r=%d size=%d: recovery %d = %x, want %s", c.k, c.r, c.size, i, got, w)
			}
		}
		if c.digest != "" {
			d := blake2b.Sum256(bytes.Join(rec, nil))
			if hex.EncodeToString(d[:]) != c.digest {
				t.Errorf("k=%d r=%d: digest %x", c.k, c.r, d)
			}
		}
	}
	// k = 1: every recovery shard equals the original.
	rec := encodeVector(t, 1, 5, 6, []byte{1, 2, 3, 4, 5, 6})
	for _, s := range rec {
		if !bytes.Equal(s, []byte{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("k=1 recovery %x", s)
		}
	}
}
