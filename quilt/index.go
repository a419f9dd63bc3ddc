package quilt

import (
	"fmt"
	"math"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
)

// Entry is one patch of the index (Walrus QuiltPatchV1): its identifier, its
// tags and the columns [Start, End) it occupies. Start is not serialized; it
// is the previous entry's End, or the index's own column count for the first.
type Entry struct {
	Identifier string
	Tags       map[string]string
	Start, End uint16
}

// PatchID returns the patch ID of this entry in the quilt with blob ID quilt.
func (e *Entry) PatchID(quilt blob.ID) PatchID {
	return PatchID{Quilt: quilt, Start: e.Start, End: e.End}
}

// Index is a decoded QuiltIndexV1: the patches in index order (sorted by
// identifier in a quilt that Walrus or Encode built).
type Index struct {
	// Columns is the number of columns the index itself occupies (0..Columns).
	Columns int
	Entries []Entry
}

// Lookup returns the first entry with the identifier, or an error wrapping ErrNotFound.
func (ix *Index) Lookup(identifier string) (Entry, error) {
	for _, e := range ix.Entries {
		if e.Identifier == identifier {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: no patch has identifier %s", ErrNotFound, short(identifier))
}

// ByRange returns the entry occupying exactly columns [start, end), as named
// by a patch ID, or an error wrapping ErrNotFound.
func (ix *Index) ByRange(start, end uint16) (Entry, error) {
	for _, e := range ix.Entries {
		if e.Start == start && e.End == end {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: no patch occupies columns [%d, %d)", ErrNotFound, start, end)
}

// ByTag returns the entries whose tag key has the given value, in index order.
func (ix *Index) ByTag(key, value string) []Entry {
	var out []Entry
	for _, e := range ix.Entries {
		if v, ok := e.Tags[key]; ok && v == value {
			out = append(out, e)
		}
	}
	return out
}

// PatchInfo describes one patch as the aggregator lists it
// (GET /v1/quilts/{quilt_id}/patches, Walrus QuiltPatchItem).
type PatchInfo struct {
	Identifier string            `json:"identifier"`
	PatchID    PatchID           `json:"patch_id"`
	Tags       map[string]string `json:"tags"`
}

// List returns every patch of the quilt with blob ID quilt, in index order.
// Tags are never nil, so they encode as {} in JSON as Walrus's do.
func (ix *Index) List(quilt blob.ID) []PatchInfo {
	out := make([]PatchInfo, len(ix.Entries))
	for i, e := range ix.Entries {
		tags := e.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		out[i] = PatchInfo{Identifier: e.Identifier, PatchID: e.PatchID(quilt), Tags: tags}
	}
	return out
}

// indexPrefixSize is the version byte and the u32 LE length before the BCS index.
const indexPrefixSize = 5

// appendIndexBCS appends BCS QuiltIndexV1: Vec<QuiltPatchV1{end_index: u16,
// identifier: String, tags: BTreeMap<String, String>}>.
func appendIndexBCS(b []byte, entries []Entry) []byte {
	b = bcs.AppendLen(b, len(entries))
	for i := range entries {
		b = bcs.AppendU16(b, entries[i].End)
		b = bcs.AppendString(b, entries[i].Identifier)
		b = appendTags(b, entries[i].Tags)
	}
	return b
}

// indexBCSSize is len(appendIndexBCS(nil, entries)); End does not change it.
func indexBCSSize(entries []Entry) int {
	n := bcsLenSize(len(entries))
	for i := range entries {
		id := entries[i].Identifier
		n += 2 + bcsLenSize(len(id)) + len(id) + tagsBCSSize(entries[i].Tags)
	}
	return n
}

// decodeIndexBCS decodes BCS QuiltIndexV1 (the whole of b) and fills in the
// start columns, the first being first.
func decodeIndexBCS(b []byte, first int) ([]Entry, error) {
	d := bcs.NewDecoder(b)
	// An entry takes at least 4 bytes: end_index, an empty identifier, no tags.
	n := d.Len(math.MaxUint16, 4)
	entries := make([]Entry, 0, n)
	for range n {
		var e Entry
		e.End = d.U16()
		e.Identifier = d.String(math.MaxInt32)
		e.Tags = decodeTags(d)
		if d.Err() != nil {
			break
		}
		entries = append(entries, e)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: index: %w", ErrMalformed, err)
	}
	start := first
	for i := range entries {
		entries[i].Start = uint16(start)
		start = int(entries[i].End)
	}
	return entries, nil
}

// checkRanges rejects an index whose column ranges no writer produces: every
// patch takes at least one column, the ranges follow each other from the end
// of the index, and they end within the k_s columns.
func checkRanges(p blob.Params, ix *Index) error {
	prev := ix.Columns
	for i, e := range ix.Entries {
		if int(e.End) <= prev || int(e.End) > p.SecondarySymbols() {
			return fmt.Errorf("%w: index: patch %d (%s) ends at column %d, want > %d and <= %d",
				ErrMalformed, i, short(e.Identifier), e.End, prev, p.SecondarySymbols())
		}
		prev = int(e.End)
	}
	return nil
}
