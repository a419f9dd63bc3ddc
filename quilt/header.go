package quilt

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/walrus-go/walrus/bcs"
)

// Version is the quilt format version (QuiltVersionV1), the first byte of the
// index, of every patch header and of every patch ID's internal part.
const Version = 1

// HeaderSize is the size of a patch header (BlobHeaderV1): the version byte,
// the u32 LE length of the rest of the patch, and a mask byte.
const HeaderSize = 6

// maskHasTags is the header mask bit saying the patch carries tags.
const maskHasTags = 1

// Patch is one blob in a quilt: Walrus QuiltStoreBlob.
type Patch struct {
	Identifier string
	Tags       map[string]string // nil or empty: no tags
	Data       []byte
}

// prefix returns the bytes written before the patch's data: the header, the
// u16 LE size and BCS of the identifier and, if there are tags, the u16 LE
// size and BCS of the tags (Walrus get_header_and_extension_bytes).
func (pt *Patch) prefix() ([]byte, error) {
	idBCS := bcsLenSize(len(pt.Identifier)) + len(pt.Identifier)
	if idBCS >= maxIdentifierBCS {
		return nil, fmt.Errorf("%w: %d bytes, the BCS form must stay below %d bytes",
			ErrInvalidIdentifier, len(pt.Identifier), maxIdentifierBCS)
	}
	size := HeaderSize + 2 + idBCS
	mask := byte(0)
	tagsBCS := 0
	if len(pt.Tags) > 0 {
		tagsBCS = tagsBCSSize(pt.Tags)
		if tagsBCS > maxTagsBCS {
			return nil, fmt.Errorf("%w: patch %s: %d bytes of tags, at most %d",
				ErrInvalidTags, short(pt.Identifier), tagsBCS, maxTagsBCS)
		}
		size += 2 + tagsBCS
		mask |= maskHasTags
	}
	rest := uint64(size-HeaderSize) + uint64(len(pt.Data))
	if rest > math.MaxUint32 {
		return nil, fmt.Errorf("%w: patch %s: %d bytes, at most %d after its header",
			ErrTooLarge, short(pt.Identifier), rest, uint64(math.MaxUint32))
	}
	b := make([]byte, 0, size)
	b = append(b, Version)
	b = binary.LittleEndian.AppendUint32(b, uint32(rest))
	b = append(b, mask)
	b = binary.LittleEndian.AppendUint16(b, uint16(idBCS))
	b = bcs.AppendString(b, pt.Identifier)
	if mask&maskHasTags != 0 {
		b = binary.LittleEndian.AppendUint16(b, uint16(tagsBCS))
		b = appendTags(b, pt.Tags)
	}
	return b, nil
}

// readPatch decodes the patch whose bytes start at byte 0 of the stream
// (Walrus decode_blob), checking every length against what the stream holds.
func readPatch(st stream) (Patch, error) {
	h, err := st.read(0, HeaderSize)
	if err != nil {
		return Patch{}, err
	}
	if h[0] != Version {
		return Patch{}, fmt.Errorf("%w: patch header version %d", ErrVersion, h[0])
	}
	rest := int64(binary.LittleEndian.Uint32(h[1:5]))
	mask := h[5]
	if int64(HeaderSize)+rest > st.size() {
		return Patch{}, fmt.Errorf("%w: the patch header claims %d bytes, the columns hold %d",
			ErrMissingColumns, int64(HeaderSize)+rest, st.size())
	}
	off := int64(HeaderSize)
	field := func(what string) ([]byte, error) {
		if off+2 > HeaderSize+rest {
			return nil, fmt.Errorf("%w: patch header: %s size past the patch's end", ErrMalformed, what)
		}
		sz, err := st.read(off, 2)
		if err != nil {
			return nil, err
		}
		n := int64(binary.LittleEndian.Uint16(sz))
		if off+2+n > HeaderSize+rest {
			return nil, fmt.Errorf("%w: patch header: %d bytes of %s past the patch's end", ErrMalformed, n, what)
		}
		b, err := st.read(off+2, n)
		off += 2 + n
		return b, err
	}
	idb, err := field("identifier")
	if err != nil {
		return Patch{}, err
	}
	d := bcs.NewDecoder(idb)
	pt := Patch{Identifier: d.String(math.MaxInt32)}
	if err := d.Finish(); err != nil {
		return Patch{}, fmt.Errorf("%w: patch identifier: %w", ErrMalformed, err)
	}
	if err := ValidateIdentifier(pt.Identifier); err != nil {
		return Patch{}, fmt.Errorf("%w: patch header: %w", ErrMalformed, err)
	}
	if mask&maskHasTags != 0 {
		tb, err := field("tags")
		if err != nil {
			return Patch{}, err
		}
		d := bcs.NewDecoder(tb)
		pt.Tags = decodeTags(d)
		if err := d.Finish(); err != nil {
			return Patch{}, fmt.Errorf("%w: patch %s tags: %w", ErrMalformed, short(pt.Identifier), err)
		}
	}
	pt.Data, err = st.read(off, HeaderSize+rest-off)
	if err != nil {
		return Patch{}, err
	}
	return pt, nil
}
