package gateway

import (
	"cmp"
	"math"
	"strconv"
	"strings"
)

// byteRange is one range of a Range header (RFC 9110 14.1.2): first-last
// (last < 0: to the end) or, with isSuffix, the last suffix bytes.
type byteRange struct {
	first, last int64
	isSuffix    bool
	suffix      int64 // the last suffix bytes (0: none, unsatisfiable)
}

// maxPos stands for a position too large for an int64: it is past the end
// of any blob.
const maxPos = math.MaxInt64

// parseRange parses a Range header value: one range of bytes, "bytes=a-b"
// (Walrus's form), "bytes=a-" or "bytes=-n". ok is false when the header
// is to be ignored, the whole blob served with 200 (RFC 9110 14.2): a
// value that does not parse (bytes=5-2, bytes=abc), another unit
// (items=0-4; an origin server must ignore units it does not know) or
// several ranges (which the aggregator does not serve as multipart, and
// may ignore). A range that parses is returned even when no blob can
// satisfy it (bytes=-0); resolve tells, with the blob's size. A position
// too large for an int64 is past the end of any blob: as an end it is the
// blob's last byte, as a start it cannot be satisfied.
func parseRange(h string) (r byteRange, ok bool) {
	unit, spec, found := strings.Cut(strings.TrimSpace(h), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return byteRange{}, false
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		return byteRange{}, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return byteRange{}, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, ok := position(b)
		if !ok {
			return byteRange{}, false
		}
		return byteRange{isSuffix: true, suffix: n}, true
	}
	first, ok := position(a)
	if !ok {
		return byteRange{}, false
	}
	if b == "" {
		return byteRange{first: first, last: -1}, true
	}
	last, ok := position(b)
	if !ok || compareDigits(a, b) > 0 {
		// RFC 9110 14.1.1: a last-pos below the first-pos is invalid.
		return byteRange{}, false
	}
	return byteRange{first: first, last: last}, true
}

// position parses a run of decimal digits (RFC 9110's 1*DIGIT), maxPos
// when it does not fit an int64.
func position(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return maxPos, true // only digits: out of range
	}
	return v, true
}

// compareDigits compares two runs of decimal digits as numbers, whatever
// their size.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}

// resolve returns the range's offset and length in a blob of size bytes;
// ok is false when no byte of the range is in the blob (416). An end past
// the blob is cut to it, and a suffix longer than the blob is the whole
// blob (RFC 9110 14.1.2).
func (r byteRange) resolve(size uint64) (start, length uint64, ok bool) {
	if r.isSuffix {
		if size == 0 || r.suffix <= 0 {
			return 0, 0, false
		}
		n := min(uint64(r.suffix), size)
		return size - n, n, true
	}
	if uint64(r.first) >= size {
		return 0, 0, false
	}
	end := size - 1
	if r.last >= 0 && uint64(r.last) < end {
		end = uint64(r.last)
	}
	return uint64(r.first), end - uint64(r.first) + 1, true
}

// clip shortens untrusted text for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
