package quilt

import "github.com/walrus-go/walrus/blob"

// Cost compares the storage of patches as one quilt with their storage as
// separate blobs, in encoded bytes (blob.Params.EncodedLength: what the
// storage resource must cover, hence what storage and writes are paid for).
type Cost struct {
	Patches  int
	Quilt    uint64  // encoded length of the quilt blob
	Separate uint64  // sum of the encoded lengths of each patch's data as its own blob
	Factor   float64 // Separate / Quilt
}

// CompareCost lays the patches out as Encode would, without writing the
// quilt, and compares the encoded lengths. It fails as Encode does.
func CompareCost(p blob.Params, patches []Patch) (Cost, error) {
	pl, err := newPlan(p, patches)
	if err != nil {
		return Cost{}, err
	}
	c := Cost{Patches: len(patches), Quilt: p.EncodedLengthForSymbolSize(pl.s)}
	for i := range patches {
		n, err := p.EncodedLength(uint64(len(patches[i].Data)))
		if err != nil {
			return Cost{}, err
		}
		c.Separate += n
	}
	c.Factor = float64(c.Separate) / float64(c.Quilt)
	return c, nil
}

// EncodedLength is the encoded length of the quilt blob.
func (q *Quilt) EncodedLength() uint64 { return q.Params.EncodedLengthForSymbolSize(q.SymbolSize) }
