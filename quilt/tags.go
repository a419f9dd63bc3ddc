package quilt

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/walrus-go/walrus/bcs"
)

// maxTagsBCS bounds the BCS size of a patch's tags: their length is a u16 in
// the patch header.
const maxTagsBCS = math.MaxUint16

// appendTags appends tags as BCS BTreeMap<String, String>: a ULEB128 count,
// then the entries in the canonical BCS order, by the bytes of the serialized
// key (so a shorter key sorts first: "b" before "aa"), which is what Rust's
// bcs crate writes whatever the map type.
func appendTags(b []byte, tags map[string]string) []byte {
	b = bcs.AppendLen(b, len(tags))
	for _, k := range sortedTagKeys(tags) {
		b = bcs.AppendString(b, k)
		b = bcs.AppendString(b, tags[k])
	}
	return b
}

// sortedTagKeys returns the keys of tags in canonical BCS map order.
func sortedTagKeys(tags map[string]string) []string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareBCSStrings)
	return keys
}

// compareBCSStrings orders strings by their BCS bytes: the ULEB128 length,
// then the content. ULEB128 is prefix-free, so unequal lengths are decided
// within the length bytes.
func compareBCSStrings(a, b string) int {
	var la, lb [5]byte
	if c := bytes.Compare(bcs.AppendLen(la[:0], len(a)), bcs.AppendLen(lb[:0], len(b))); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// tagsBCSSize is len(appendTags(nil, tags)) without building it.
func tagsBCSSize(tags map[string]string) int {
	n := bcsLenSize(len(tags))
	for k, v := range tags {
		n += bcsLenSize(len(k)) + len(k) + bcsLenSize(len(v)) + len(v)
	}
	return n
}

// checkTags rejects tags that Rust could not hold (not UTF-8).
func checkTags(tags map[string]string) error {
	for k, v := range tags {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: tag %s is not UTF-8", ErrInvalidTags, short(k))
		}
	}
	return nil
}

// decodeTags reads a BCS BTreeMap<String, String>. Like Rust's bcs crate it
// requires the keys in strictly increasing canonical order (no duplicates).
// It returns a non-nil map.
func decodeTags(d *bcs.Decoder) map[string]string {
	n := d.Len(math.MaxInt32, 2)
	tags := make(map[string]string, n)
	var prev string
	for i := range n {
		k := d.String(math.MaxInt32)
		v := d.String(math.MaxInt32)
		if d.Err() != nil {
			return tags
		}
		if i > 0 && compareBCSStrings(prev, k) >= 0 {
			d.Fail(fmt.Errorf("%w: tag keys not in canonical order at %s", bcs.ErrInvalid, short(k)))
			return tags
		}
		prev = k
		tags[k] = v
	}
	return tags
}
