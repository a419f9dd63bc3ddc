package rs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

func randShards(rng *rand.Rand, k, size int) [][]byte {
	out := make([][]byte, k)
	for i := range out {
		out[i] = make([]byte, size)
		for j := range out[i] {
			out[i][j] = byte(rng.Uint32())
		}
	}
	return out
}

// decodeCheck drops shards per keep and checks the decoder restores the originals.
func decodeCheck(t *testing.T, c *Code, orig, rec [][]byte, keep []bool) {
	t.Helper()
	shards := make([][]byte, c.k+c.r)
	for i := range shards {
		if keep[i] {
			if i < c.k {
				shards[i] = orig[i]
			} else {
				shards[i] = rec[i-c.k]
			}
		}
	}
	got, err := c.DecodeBytes(shards)
	if err != nil {
		t.Fatalf("k=%d r=%d: %v", c.k, c.r, err)
	}
	for i := range orig {
		if !bytes.Equal(got[i], orig[i]) {
			t.Fatalf("k=%d r=%d high=%v keep=%v: original %d wrong", c.k, c.r, c.high, keep, i)
		}
	}
}

// Exhaustive erasure patterns for small codes, both rates.
func TestDecodeAllPatternsSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for k := 1; k <= 6; k++ {
		for r := 1; r <= 7; r++ {
			c, err := New(k, r)
			if err != nil {
				t.Fatal(err)
			}
			orig := randShards(rng, k, 6)
			rec, err := c.EncodeBytes(orig)
			if err != nil {
				t.Fatal(err)
			}
			n := k + r
			for mask := 0; mask < 1<<n; mask++ {
				keep := make([]bool, n)
				cnt := 0
				for i := range n {
					keep[i] = mask>>i&1 == 1
					if keep[i] {
						cnt++
					}
				}
				if cnt < k {
					continue
				}
				decodeCheck(t, c, orig, rec, keep)
			}
		}
	}
}

// Random patterns with exactly k shards, at the shapes RedStuff uses.
func TestDecodeRandomPatterns(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	shapes := [][2]int{{2, 2}, {3, 1}, {2, 5}, {3, 4}, {5, 2}, {4, 6}, {7, 3}, {34, 66}, {67, 33}, {101, 200}, {201, 100}, {334, 666}, {667, 333}, {100, 28}, {513, 3}, {3, 513}}
	for _, sh := range shapes {
		k, r := sh[0], sh[1]
		c, _ := New(k, r)
		for _, size := range []int{2, 64, 70, 130} {
			orig := randShards(rng, k, size)
			rec, err := c.EncodeBytes(orig)
			if err != nil {
				t.Fatal(err)
			}
			for trial := 0; trial < 3; trial++ {
				keep := make([]bool, k+r)
				for _, i := range rng.Perm(k + r)[:k] {
					keep[i] = true
				}
				decodeCheck(t, c, orig, rec, keep)
			}
			// Only recovery shards (when there are enough).
			if r >= k {
				keep := make([]bool, k+r)
				for i := k; i < 2*k; i++ {
					keep[i] = true
				}
				decodeCheck(t, c, orig, rec, keep)
			}
		}
	}
}

// Large shards exercise the segmented passes.
func TestLargeShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, sh := range [][2]int{{10, 20}, {20, 10}} {
		c, _ := New(sh[0], sh[1])
		orig := randShards(rng, c.k, 1<<20+62)
		rec, err := c.EncodeBytes(orig)
		if err != nil {
			t.Fatal(err)
		}
		keep := make([]bool, c.k+c.r)
		for _, i := range rng.Perm(c.k + c.r)[:c.k] {
			keep[i] = true
		}
		decodeCheck(t, c, orig, rec, keep)
	}
}

func TestErrors(t *testing.T) {
	for _, sh := range [][2]int{{0, 1}, {1, 0}, {65536, 1}, {40000, 30000}} {
		if _, err := New(sh[0], sh[1]); !errors.Is(err, ErrShardCount) {
			t.Errorf("New(%d, %d): %v", sh[0], sh[1], err)
		}
	}
	c, _ := New(3, 2)
	if _, err := c.EncodeBytes([][]byte{{1, 2}, {3, 4}}); !errors.Is(err, ErrShardCount) {
		t.Error("wrong shard count")
	}
	if _, err := c.EncodeBytes([][]byte{{1, 2}, {3, 4}, {5}}); !errors.Is(err, ErrShardSize) {
		t.Error("unequal shards")
	}
	if _, err := c.EncodeBytes([][]byte{{1}, {3}, {5}}); !errors.Is(err, ErrShardSize) {
		t.Error("odd shards")
	}
	if _, err := c.DecodeBytes([][]byte{{1, 2}, nil, nil, {1, 2}, nil}); !errors.Is(err, ErrTooFewShards) {
		t.Error("too few shards")
	}
	if err := c.Encode(make([][]byte, 3), make([][]byte, 2)); err != nil {
		t.Errorf("zero-length packed shards: %v", err)
	}
	if err := c.Encode([][]byte{make([]byte, 10), make([]byte, 10), make([]byte, 10)}, [][]byte{make([]byte, 10), make([]byte, 10)}); !errors.Is(err, ErrShardSize) {
		t.Error("unpacked length accepted")
	}
}

func TestLayoutRoundTrip(t *testing.T) {
	for size := 2; size <= 200; size += 2 {
		src := make([]byte, size)
		for i := range src {
			src[i] = byte(i + 1)
		}
		p := make([]byte, PackedLen(size))
		Pack(p, src)
		back := make([]byte, size)
		Unpack(back, p)
		if !bytes.Equal(back, src) {
			t.Fatalf("size %d", size)
		}
	}
}

func TestRateRule(t *testing.T) {
	for _, c := range []struct {
		k, r int
		high bool
	}{{334, 666, false}, {667, 333, true}, {4, 6, false}, {7, 3, true}, {2, 2, true}, {3, 3, true}, {3, 4, true}, {4, 3, false}, {1, 1, true}} {
		if HighRate(c.k, c.r) != c.high {
			t.Errorf("HighRate(%d, %d) = %v", c.k, c.r, !c.high)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, sh := range [][3]int{{334, 666, 64 << 10}, {667, 333, 64 << 10}} {
		b.Run(fmt.Sprintf("k%d_r%d_%dKiB", sh[0], sh[1], sh[2]>>10), func(b *testing.B) {
			c, _ := New(sh[0], sh[1])
			orig := randShards(rand.New(rand.NewPCG(1, 1)), sh[0], sh[2])
			rec := randShards(rand.New(rand.NewPCG(1, 1)), sh[1], sh[2])
			b.SetBytes(int64(sh[0] * sh[2]))
			for b.Loop() {
				c.Encode(orig, rec)
			}
		})
	}
}

// BenchmarkReconstructData: the originals rebuilt from the last k shards
// (as many recovery shards as possible), in the packed layout.
func BenchmarkReconstructData(b *testing.B) {
	for _, sh := range [][3]int{{334, 666, 64 << 10}, {667, 333, 64 << 10}} {
		b.Run(fmt.Sprintf("k%d_r%d_%dKiB", sh[0], sh[1], sh[2]>>10), func(b *testing.B) {
			k, r, size := sh[0], sh[1], sh[2]
			c, _ := New(k, r)
			orig := randShards(rand.New(rand.NewPCG(1, 1)), k, size)
			rec := randShards(rand.New(rand.NewPCG(1, 1)), r, size)
			c.Encode(orig, rec)
			all := append(append([][]byte{}, orig...), rec...)
			shards := make([][]byte, k+r)
			b.SetBytes(int64(k * size))
			b.ReportAllocs()
			for b.Loop() {
				for i := range shards {
					switch {
					case i >= r: // one of the last k shards
						shards[i] = all[i]
					case i < k: // a missing original: its memory is reused
						shards[i] = orig[i][:0]
					default:
						shards[i] = nil
					}
				}
				if err := c.ReconstructData(shards); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzReconstruct: any shape, shard size, data and erasure pattern with at
// least k shards left decodes to the originals.
func FuzzReconstruct(f *testing.F) {
	f.Add(uint8(3), uint8(4), uint8(2), uint64(0b1010101), []byte("some data"))
	f.Add(uint8(30), uint8(2), uint8(33), uint64(1<<31-1), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, k8, r8, half uint8, mask uint64, seed []byte) {
		k, r, size := 1+int(k8)%40, 1+int(r8)%40, 2*(1+int(half)%70)
		c, err := New(k, r)
		if err != nil {
			t.Fatal(err)
		}
		orig := make([][]byte, k)
		for i := range orig {
			orig[i] = make([]byte, size)
			for j := range orig[i] {
				if len(seed) > 0 {
					orig[i][j] = seed[(i*size+j)%len(seed)] ^ byte(i*7+j)
				}
			}
		}
		rec, err := c.EncodeBytes(orig)
		if err != nil {
			t.Fatal(err)
		}
		shards := make([][]byte, k+r)
		kept := 0
		for i := range shards {
			if mask>>(i%64)&1 == 1 || kept+(k+r-i) <= k {
				if i < k {
					shards[i] = orig[i]
				} else {
					shards[i] = rec[i-k]
				}
				kept++
			}
		}
		got, err := c.DecodeBytes(shards)
		if err != nil {
			t.Fatal(err)
		}
		for i := range orig {
			if !bytes.Equal(got[i], orig[i]) {
				t.Fatalf("k=%d r=%d size=%d: original %d", k, r, size, i)
			}
		}
	})
}
