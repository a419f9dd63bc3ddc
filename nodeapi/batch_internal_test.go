package nodeapi

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestPoolClasses(t *testing.T) {
	prev := 0
	for _, n := range []int{1, 4096, 4097, 5000, 5120, 5121, 8192, 8193, 400_000, 800_123, 1 << 20, 64<<20 + 1, 1 << 28} {
		c, size := poolClass(n)
		if c < prev || c >= poolClasses || size < n || n > 4096 && size > n+n/4 {
			t.Fatalf("n %d: class %d size %d", n, c, size)
		}
		if c2, size2 := poolClass(size); c2 != c || size2 != size {
			t.Fatalf("n %d: a buffer of %d bytes is class %d, not %d", n, size, c2, c)
		}
		prev = c
	}
	if c, _ := poolClass(1<<28 + 1); c != -1 {
		t.Fatal("a huge buffer is pooled")
	}
	var p bufPool
	b := p.get(5000)
	if len(*b) != 5000 || cap(*b) != 5120 {
		t.Fatalf("len %d cap %d", len(*b), cap(*b))
	}
	p.put(b)
	if b := p.get(5100); len(*b) != 5100 || cap(*b) != 5120 {
		t.Fatalf("reused: len %d cap %d", len(*b), cap(*b))
	}
}

func TestExactReader(t *testing.T) {
	r := &exactReader{r: iotest.OneByteReader(bytes.NewReader([]byte("abcdef"))), n: 4}
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "abcd" {
		t.Fatalf("%q %v", b, err)
	}
	r = &exactReader{r: bytes.NewReader([]byte("ab")), n: 4}
	if _, err := io.ReadAll(r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short body: %v", err)
	}
}
