package blake2bx

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/blake2b"
)

type namedImpl struct {
	name string
	fn   func(out [][32]byte, prefix byte, data []byte, size int)
}

// testImpls lists every path available on this machine; architecture
// files add theirs in init.
var testImpls = []namedImpl{
	{"Sum256Prefixed", Sum256Prefixed},
	{"generic", Sum256PrefixedGeneric},
}

func reference(prefix byte, msg []byte) [32]byte {
	buf := make([]byte, 0, 1+len(msg))
	buf = append(buf, prefix)
	buf = append(buf, msg...)
	return blake2b.Sum256(buf)
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// check runs every path on count messages of the given size and compares
// against x/crypto. The data slice gets random trailing bytes (which must be
// ignored) and starts at an odd offset.
func check(t *testing.T, rng *rand.Rand, prefix byte, size, count int) {
	t.Helper()
	buf := randomBytes(rng, 3+size*count+rng.IntN(200))
	data := buf[3:]
	want := make([][32]byte, count)
	for i := range want {
		want[i] = reference(prefix, data[i*size:(i+1)*size])
	}
	orig := bytes.Clone(buf)
	for _, im := range testImpls {
		got := make([][32]byte, count+1)
		got[count] = [32]byte{0: 0xAA, 31: 0x55}
		im.fn(got[:count], prefix, data, size)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: prefix %#x size %d count %d: digest %d = %x, want %x", im.name, prefix, size, count, i, got[i], want[i])
			}
		}
		if got[count] != ([32]byte{0: 0xAA, 31: 0x55}) {
			t.Fatalf("%s: size %d count %d: wrote past len(out)", im.name, size, count)
		}
		if !bytes.Equal(buf, orig) {
			t.Fatalf("%s: modified data", im.name)
		}
	}
}

var boundarySizes = []int{126, 127, 128, 129, 254, 255, 256, 257, 382, 383, 384, 1205, 1206, 1207, 65534}

func TestAllSmallSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for size := 0; size <= 300; size++ {
		for _, prefix := range []byte{0, 1} {
			for count := 0; count <= 20; count++ {
				check(t, rng, prefix, size, count)
			}
			check(t, rng, prefix, size, 8*rng.IntN(10)+rng.IntN(8))
		}
	}
}

func TestBoundarySizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range boundarySizes {
		for _, prefix := range []byte{0, 1, 0xFF} {
			for count := 0; count <= 20; count++ {
				check(t, rng, prefix, size, count)
			}
		}
	}
}

func TestLargeBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{0, 1, 2, 3, 64, 127, 1206, 2000} {
		for _, count := range []int{1000, 1001, 4099} {
			check(t, rng, byte(count), size, count)
		}
	}
}

func TestConcurrent(t *testing.T) {
	const goroutines = 8
	errs := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			size := []int{2, 64, 300}[g%3]
			count := 50 + g
			data := randomBytes(rng, size*count)
			for _, im := range testImpls {
				out := make([][32]byte, count)
				for range 20 {
					im.fn(out, byte(g), data, size)
				}
				for i := range out {
					if out[i] != reference(byte(g), data[i*size:(i+1)*size]) {
						errs <- fmt.Errorf("%s: goroutine %d: digest %d differs", im.name, g, i)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range goroutines {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestImpl(t *testing.T) {
	t.Logf("active implementation: %s", Impl())
	switch Impl() {
	case "avx512", "avx2", "generic":
	default:
		t.Fatalf("unknown implementation %q", Impl())
	}
}

func TestPanics(t *testing.T) {
	for _, im := range testImpls {
		for _, tc := range []struct {
			count, size, dataLen int
		}{
			{2, 5, 9},   // one byte short
			{8, 1, 7},   // one message short
			{1, -1, 10}, // negative size
			{1, math.MaxInt / 4, 8},
			{3, math.MaxInt / 2, 8}, // len(out)*size overflows
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s: count %d size %d len %d: no panic", im.name, tc.count, tc.size, tc.dataLen)
					}
				}()
				im.fn(make([][32]byte, tc.count), 0, make([]byte, tc.dataLen), tc.size)
			}()
		}
		// Exact length, nil data with size 0, and no messages are fine.
		im.fn(make([][32]byte, 3), 0, make([]byte, 15), 5)
		im.fn(make([][32]byte, 3), 0, nil, 0)
		im.fn(nil, 0, nil, 7)
	}
}

func TestNoAlloc(t *testing.T) {
	data := make([]byte, 1206*20)
	out := make([][32]byte, 20)
	for _, im := range testImpls {
		for _, size := range []int{0, 2, 64, 1206} {
			n := testing.AllocsPerRun(10, func() { im.fn(out, 0, data, size) })
			if n != 0 {
				t.Errorf("%s: size %d: %v allocations per call", im.name, size, n)
			}
		}
	}
}

func FuzzSum256Prefixed(f *testing.F) {
	f.Add(byte(0), []byte("abc"), 1)
	f.Add(byte(1), bytes.Repeat([]byte{7}, 65*9), 65)
	f.Add(byte(0), bytes.Repeat([]byte{1, 2, 3}, 1000), 300)
	f.Fuzz(func(t *testing.T, prefix byte, data []byte, size int) {
		if size < 0 || size > 4096 {
			return
		}
		count := 20
		if size > 0 {
			count = min(len(data)/size, 40)
		}
		want := make([][32]byte, count)
		for i := range want {
			want[i] = reference(prefix, data[i*size:(i+1)*size])
		}
		for _, im := range testImpls {
			got := make([][32]byte, count)
			im.fn(got, prefix, data, size)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s: size %d count %d: digest %d differs", im.name, size, count, i)
				}
			}
		}
	})
}

func benchmarkSizes() []int { return []int{2, 64, 1206} }

const benchBatch = 1000

func BenchmarkHash(b *testing.B) {
	for _, size := range benchmarkSizes() {
		data := randomBytes(rand.New(rand.NewPCG(7, 8)), size*benchBatch)
		out := make([][32]byte, benchBatch)
		run := func(name string, fn func()) {
			b.Run(fmt.Sprintf("size=%d/impl=%s", size, name), func(b *testing.B) {
				b.SetBytes(int64(size * benchBatch))
				for b.Loop() {
					fn()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/hash")
			})
		}
		buf := make([]byte, 1+size)
		run("xcrypto", func() {
			for i := range out {
				buf[0] = 0
				copy(buf[1:], data[i*size:(i+1)*size])
				out[i] = blake2b.Sum256(buf)
			}
		})
		for _, im := range testImpls {
			if im.name != "Sum256Prefixed" {
				run(im.name, func() { im.fn(out, 0, data, size) })
			}
		}
	}
}

// BenchmarkSmallBatch measures short batches (the top levels of a Merkle
// tree), where the SIMD kernels run partly empty.
func BenchmarkSmallBatch(b *testing.B) {
	const size = 64
	data := randomBytes(rand.New(rand.NewPCG(7, 8)), size*16)
	out := make([][32]byte, 16)
	for _, n := range []int{1, 2, 3, 4, 8, 16} {
		for _, im := range testImpls {
			b.Run(fmt.Sprintf("n=%d/impl=%s", n, im.name), func(b *testing.B) {
				for b.Loop() {
					im.fn(out[:n], 1, data, size)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/hash")
			})
		}
	}
}
