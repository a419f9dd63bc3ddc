package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// byteRange is one range of a Range header (RFC 9110 14.1.2): first-last
// (last < 0: to the end) or, with suffix, the last n bytes.
type byteRange struct {
	first, last int64
	suffix      int64 // > 0: the last suffix bytes (first, last unused)
}

var errBadRange = errors.New("invalid range header")

// parseRange parses a Range header value: one range of bytes, "bytes=a-b"
// (Walrus's form), "bytes=a-" or "bytes=-n". Several ranges, other units
// and malformed values are errors (the aggregator answers 416).
func parseRange(h string) (byteRange, error) {
	unit, spec, ok := strings.Cut(strings.TrimSpace(h), "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return byteRange{}, fmt.Errorf("%w: %q: want bytes=START-END", errBadRange, clip(h))
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		return byteRange{}, fmt.Errorf("%w: only one range per request", errBadRange)
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return byteRange{}, fmt.Errorf("%w: %q: want bytes=START-END", errBadRange, clip(h))
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	if a == "" {
		n, ok := num(b)
		if !ok || n == 0 {
			return byteRange{}, fmt.Errorf("%w: %q: a suffix range needs a length > 0", errBadRange, clip(h))
		}
		return byteRange{suffix: n}, nil
	}
	first, ok := num(a)
	if !ok {
		return byteRange{}, fmt.Errorf("%w: %q: bad start", errBadRange, clip(h))
	}
	if b == "" {
		return byteRange{first: first, last: -1}, nil
	}
	last, ok := num(b)
	if !ok || last < first {
		return byteRange{}, fmt.Errorf("%w: %q: the end must be a number not below the start", errBadRange, clip(h))
	}
	return byteRange{first: first, last: last}, nil
}

// resolve returns the range's offset and length in a blob of size bytes;
// ok is false when no byte of the range is in the blob (416). An end past
// the blob is cut to it (RFC 9110).
func (r byteRange) resolve(size uint64) (start, length uint64, ok bool) {
	if r.suffix > 0 {
		if size == 0 {
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
