// Package bcs implements the subset of BCS (Binary Canonical Serialization, the
// encoding of Sui and Walrus) that the Walrus formats need: little-endian
// integers, ULEB128 lengths and enum tags, byte vectors, fixed arrays, booleans,
// strings and options.
//
// Encoding is append-style (AppendU16(buf, v) returns the extended buffer).
// Decoding goes through a Decoder with a sticky error: after the first problem
// every read returns a zero value, and Err or Finish reports what went wrong.
// Decoders never panic on malformed input and never allocate more than the
// input could possibly describe.
package bcs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Errors returned (wrapped) by Decoder.
var (
	// ErrShort: the input ends before the value does.
	ErrShort = errors.New("bcs: unexpected end of input")
	// ErrTrailing: Finish found bytes after the last value.
	ErrTrailing = errors.New("bcs: trailing bytes")
	// ErrNonCanonical: a ULEB128 with redundant bytes, or a value above u32.
	ErrNonCanonical = errors.New("bcs: non-canonical ULEB128")
	// ErrInvalid: a value outside its domain (bool not 0/1, bad UTF-8, unknown tag, length too large).
	ErrInvalid = errors.New("bcs: invalid value")
)

// AppendU8 appends one byte.
func AppendU8(b []byte, v uint8) []byte { return append(b, v) }

// AppendU16 appends v little-endian.
func AppendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

// AppendU32 appends v little-endian.
func AppendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// AppendU64 appends v little-endian.
func AppendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// AppendBool appends 0x01 for true and 0x00 for false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendULEB128 appends v as ULEB128, the BCS form of lengths and enum tags.
func AppendULEB128(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendLen appends a sequence length. It panics if n does not fit in u32,
// which no in-memory Walrus value reaches.
func AppendLen(b []byte, n int) []byte {
	if n < 0 || uint64(n) > math.MaxUint32 {
		panic(fmt.Sprintf("bcs: length %d out of range", n))
	}
	return AppendULEB128(b, uint32(n))
}

// AppendBytes appends a length-prefixed byte vector (Vec<u8>).
func AppendBytes(b, v []byte) []byte { return append(AppendLen(b, len(v)), v...) }

// AppendString appends a length-prefixed UTF-8 string.
func AppendString(b []byte, s string) []byte { return append(AppendLen(b, len(s)), s...) }

// AppendFixed appends a fixed-size array ([u8; N]): raw bytes, no length.
func AppendFixed(b, v []byte) []byte { return append(b, v...) }

// Decoder reads BCS values from a byte slice.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a decoder over b. The decoder does not copy b: slices it
// returns from Bytes and Fixed alias it.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining is the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset is the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

// Fail records err (wrapped with the offset) unless an error is already recorded.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %w", d.off, err)
	}
}

// Finish returns the sticky error, or ErrTrailing if unread bytes remain.
func (d *Decoder) Finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.buf) {
		return fmt.Errorf("%w: %d bytes after the value", ErrTrailing, len(d.buf)-d.off)
	}
	return nil
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.Fail(ErrShort)
		return nil
	}
	b := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// U8 reads one byte.
func (d *Decoder) U8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// U16 reads a little-endian u16.
func (d *Decoder) U16() uint16 {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

// U32 reads a little-endian u32.
func (d *Decoder) U32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// U64 reads a little-endian u64.
func (d *Decoder) U64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// Bool reads a boolean; any byte but 0 or 1 is an error.
func (d *Decoder) Bool() bool {
	v := d.U8()
	if v > 1 {
		d.Fail(fmt.Errorf("%w: bool byte %#x", ErrInvalid, v))
		return false
	}
	return v == 1
}

// ULEB128 reads a canonical ULEB128 value of at most u32.
func (d *Decoder) ULEB128() uint32 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if d.err != nil {
			return 0
		}
		if shift > 28 {
			d.Fail(ErrNonCanonical)
			return 0
		}
		c := d.U8()
		if d.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c == 0 && shift > 0 {
				d.Fail(ErrNonCanonical)
				return 0
			}
			if v > math.MaxUint32 {
				d.Fail(ErrNonCanonical)
				return 0
			}
			return uint32(v)
		}
	}
}

// Len reads a sequence length and checks it against max and against the
// unread input, assuming each element takes at least minElem bytes. Use it
// before allocating a slice for the elements.
func (d *Decoder) Len(max, minElem int) int {
	n := d.ULEB128()
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.Fail(fmt.Errorf("%w: length %d above limit %d", ErrInvalid, n, max))
		return 0
	}
	if minElem > 0 && uint64(n)*uint64(minElem) > uint64(d.Remaining()) {
		d.Fail(fmt.Errorf("%w: length %d needs more bytes than remain", ErrShort, n))
		return 0
	}
	return int(n)
}

// Tag reads an enum variant index and checks it is below count.
func (d *Decoder) Tag(count int) int {
	t := d.ULEB128()
	if d.err != nil {
		return 0
	}
	if uint64(t) >= uint64(count) {
		d.Fail(fmt.Errorf("%w: enum tag %d (want < %d)", ErrInvalid, t, count))
		return 0
	}
	return int(t)
}

// Bytes reads a length-prefixed byte vector of at most max bytes. The result
// aliases the input.
func (d *Decoder) Bytes(max int) []byte {
	n := d.Len(max, 1)
	if d.err != nil {
		return nil
	}
	return d.take(n)
}

// Fixed reads exactly n raw bytes. The result aliases the input.
func (d *Decoder) Fixed(n int) []byte { return d.take(n) }

// Array32 reads a [u8; 32].
func (d *Decoder) Array32() (a [32]byte) {
	copy(a[:], d.take(32))
	return a
}

// String reads a length-prefixed UTF-8 string of at most max bytes.
func (d *Decoder) String(max int) string {
	b := d.Bytes(max)
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.Fail(fmt.Errorf("%w: string is not UTF-8", ErrInvalid))
		return ""
	}
	return string(b)
}

// Option reads an Option tag (0 = None, 1 = Some) and reports whether a value follows.
func (d *Decoder) Option() bool { return d.Tag(2) == 1 }
