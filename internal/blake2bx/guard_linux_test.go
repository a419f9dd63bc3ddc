//go:build linux

package blake2bx

import (
	"math/rand/v2"
	"syscall"
	"testing"
)

// guarded returns a usable region of n pages with an inaccessible page on
// each side, so that any read outside the region faults.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	ps := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, (n+2)*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:ps], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[(n+1)*ps:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	return mem[ps : (n+1)*ps : (n+1)*ps]
}

// TestPageBoundaries places the messages flush against inaccessible pages:
// the kernels must not read the byte before the first message (where the
// prefix goes) nor past the end of the last one.
func TestPageBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	region := guarded(t, 20)
	for i := range region {
		region[i] = byte(rng.Uint32())
	}
	for _, size := range []int{1, 2, 3, 31, 64, 126, 127, 128, 129, 255, 256, 300, 1206, 4095} {
		for _, count := range []int{1, 2, 7, 8, 9, 15, 16, 17, 33} {
			if size*count > len(region) {
				continue
			}
			for _, data := range [][]byte{region[:size*count], region[len(region)-size*count:]} {
				want := make([][32]byte, count)
				for i := range want {
					want[i] = reference(1, data[i*size:(i+1)*size])
				}
				for _, im := range testImpls {
					got := make([][32]byte, count)
					im.fn(got, 1, data, size)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s: size %d count %d: digest %d differs", im.name, size, count, i)
						}
					}
				}
			}
		}
	}
}
