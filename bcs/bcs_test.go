package bcs

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestULEB128(t *testing.T) {
	cases := []struct {
		v   uint32
		enc []byte
	}{
		{0, []byte{0}},
		{1, []byte{1}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{300, []byte{0xac, 0x02}},
		{16384, []byte{0x80, 0x80, 0x01}},
		{math.MaxUint32, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, c := range cases {
		if got := AppendULEB128(nil, c.v); !bytes.Equal(got, c.enc) {
			t.Errorf("encode %d = %x, want %x", c.v, got, c.enc)
		}
		d := NewDecoder(c.enc)
		if got := d.ULEB128(); got != c.v || d.Finish() != nil {
			t.Errorf("decode %x = %d (%v), want %d", c.enc, got, d.Finish(), c.v)
		}
	}
}

func TestULEB128Rejects(t *testing.T) {
	for _, enc := range [][]byte{
		{0x80, 0x00},                         // redundant zero byte
		{0x81, 0x80, 0x00},                   // redundant
		{0xff, 0xff, 0xff, 0xff, 0x1f},       // above u32
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, // too long
		{0x80},                               // truncated
		{},                                   // empty
	} {
		d := NewDecoder(enc)
		d.ULEB128()
		if d.Err() == nil {
			t.Errorf("decode %x: no error", enc)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendU8(b, 7)
	b = AppendU16(b, 0x1234)
	b = AppendU32(b, 0xdeadbeef)
	b = AppendU64(b, 1<<40+5)
	b = AppendBool(b, true)
	b = AppendBytes(b, []byte("abc"))
	b = AppendString(b, "walrus")
	b = AppendFixed(b, bytes.Repeat([]byte{9}, 32))
	d := NewDecoder(b)
	if d.U8() != 7 || d.U16() != 0x1234 || d.U32() != 0xdeadbeef || d.U64() != 1<<40+5 || !d.Bool() {
		t.Fatal("integers")
	}
	if string(d.Bytes(10)) != "abc" || d.String(10) != "walrus" || d.Array32() != [32]byte(bytes.Repeat([]byte{9}, 32)) {
		t.Fatal("vectors")
	}
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestDecoderErrors(t *testing.T) {
	d := NewDecoder([]byte{2})
	d.Bool()
	if !errors.Is(d.Err(), ErrInvalid) {
		t.Errorf("bool 2: %v", d.Err())
	}
	d = NewDecoder([]byte{5, 1, 2})
	if d.Bytes(100); !errors.Is(d.Err(), ErrShort) {
		t.Errorf("short bytes: %v", d.Err())
	}
	d = NewDecoder([]byte{5, 1, 2, 3, 4, 5})
	if d.Bytes(4); !errors.Is(d.Err(), ErrInvalid) {
		t.Errorf("over max: %v", d.Err())
	}
	d = NewDecoder([]byte{2, 0xff, 0xfe})
	if d.String(10); !errors.Is(d.Err(), ErrInvalid) {
		t.Errorf("bad utf8: %v", d.Err())
	}
	d = NewDecoder([]byte{1, 2})
	d.U8()
	if !errors.Is(d.Finish(), ErrTrailing) {
		t.Errorf("trailing: %v", d.Finish())
	}
	d = NewDecoder([]byte{3})
	if d.Tag(3); d.Err() == nil {
		t.Error("tag 3 of 3 accepted")
	}
	// A huge claimed length must not allocate or panic.
	d = NewDecoder(AppendULEB128(nil, math.MaxUint32))
	if d.Len(math.MaxInt32, 1); d.Err() == nil {
		t.Error("huge length accepted")
	}
	// Sticky: after an error everything is zero.
	d = NewDecoder([]byte{})
	if d.U64() != 0 || d.U8() != 0 || d.Err() == nil {
		t.Error("not sticky")
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x80, 0x01, 1, 2, 3})
	f.Add([]byte{3, 'a', 'b', 'c', 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		n := d.Len(1<<20, 1)
		for i := 0; i < n && d.Err() == nil; i++ {
			_ = d.String(64)
		}
		_ = d.Option()
		_ = d.Bool()
		if d.Err() == nil && d.Offset() > len(b) {
			t.Fatal("read past end")
		}
	})
}
