package store

import (
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// MaxRegistrations bounds the Blob objects one BlobInfo records.
const MaxRegistrations = 1 << 16

// Registration is one Blob object registering a blob ID, as the node
// learned it from BlobRegistered, BlobCertified and BlobDeleted events.
type Registration struct {
	ObjectID  ids.ObjectID
	Deletable bool
	EndEpoch  uint32 // first epoch in which the blob is no longer stored
	// CertifiedEpoch is the epoch of the object's first certification, if any.
	CertifiedEpoch *uint32
	// Event is the last event that changed the registration.
	Event ids.EventID
}

// Certified reports whether the object has been certified.
func (r *Registration) Certified() bool { return r.CertifiedEpoch != nil }

// Live reports whether the registration still keeps the blob in epoch.
func (r *Registration) Live(epoch uint32) bool { return epoch < r.EndEpoch }

// BlobInfo is everything the node knows from the chain about one blob ID:
// its registrations (sorted by object ID) and whether the ID was declared
// invalid.
type BlobInfo struct {
	Registrations []Registration
	// Invalid is set once an InvalidBlobID event names the blob.
	Invalid *Invalidation
}

// Invalidation records the InvalidBlobID event of a blob.
type Invalidation struct {
	Epoch uint32
	Event ids.EventID
}

// Registration returns the registration of a Blob object, or nil.
func (b *BlobInfo) Registration(object [32]byte) *Registration {
	i, ok := b.find(object)
	if !ok {
		return nil
	}
	return &b.Registrations[i]
}

func (b *BlobInfo) find(object [32]byte) (int, bool) {
	return slices.BinarySearchFunc(b.Registrations, object, func(r Registration, o [32]byte) int {
		return slices.Compare(r.ObjectID[:], o[:])
	})
}

// Put adds or replaces the registration of r's object.
func (b *BlobInfo) Put(r Registration) {
	i, ok := b.find(r.ObjectID)
	if ok {
		b.Registrations[i] = r
		return
	}
	b.Registrations = slices.Insert(b.Registrations, i, r)
}

// Remove drops the registration of a Blob object; it reports whether there
// was one.
func (b *BlobInfo) Remove(object [32]byte) bool {
	i, ok := b.find(object)
	if ok {
		b.Registrations = slices.Delete(b.Registrations, i, i+1)
	}
	return ok
}

// Expire drops the registrations that ended by epoch.
func (b *BlobInfo) Expire(epoch uint32) {
	b.Registrations = slices.DeleteFunc(b.Registrations, func(r Registration) bool { return !r.Live(epoch) })
}

// Live reports whether some registration keeps the blob in epoch.
func (b *BlobInfo) Live(epoch uint32) bool {
	for i := range b.Registrations {
		if b.Registrations[i].Live(epoch) {
			return true
		}
	}
	return false
}

// CertifiedLive reports whether a certified registration keeps the blob in
// epoch: the blob is past its point of availability and must be held.
func (b *BlobInfo) CertifiedLive(epoch uint32) bool {
	for i := range b.Registrations {
		if r := &b.Registrations[i]; r.Certified() && r.Live(epoch) {
			return true
		}
	}
	return false
}

// MaxEndEpoch is the latest end epoch among the registrations (0 if none).
func (b *BlobInfo) MaxEndEpoch() uint32 {
	var m uint32
	for i := range b.Registrations {
		m = max(m, b.Registrations[i].EndEpoch)
	}
	return m
}

// Empty reports whether the record says nothing worth keeping.
func (b *BlobInfo) Empty() bool { return len(b.Registrations) == 0 && b.Invalid == nil }

const blobInfoVersion = 1

// AppendBCS appends the record's stored form.
func (b *BlobInfo) AppendBCS(out []byte) []byte {
	out = bcs.AppendU8(out, blobInfoVersion)
	if b.Invalid != nil {
		out = bcs.AppendU8(out, 1)
		out = bcs.AppendU32(out, b.Invalid.Epoch)
		out = appendEventID(out, b.Invalid.Event)
	} else {
		out = bcs.AppendU8(out, 0)
	}
	out = bcs.AppendLen(out, len(b.Registrations))
	for i := range b.Registrations {
		r := &b.Registrations[i]
		out = append(out, r.ObjectID[:]...)
		out = bcs.AppendBool(out, r.Deletable)
		out = bcs.AppendU32(out, r.EndEpoch)
		if r.CertifiedEpoch != nil {
			out = bcs.AppendU32(bcs.AppendU8(out, 1), *r.CertifiedEpoch)
		} else {
			out = bcs.AppendU8(out, 0)
		}
		out = appendEventID(out, r.Event)
	}
	return out
}

func appendEventID(out []byte, e ids.EventID) []byte {
	return bcs.AppendU64(append(out, e.TxDigest[:]...), e.Seq)
}

func decodeEventID(d *bcs.Decoder) ids.EventID {
	return ids.EventID{TxDigest: d.Array32(), Seq: d.U64()}
}

// UnmarshalBlobInfo decodes a stored BlobInfo. Registrations must be sorted
// by object ID without duplicates.
func UnmarshalBlobInfo(b []byte) (BlobInfo, error) {
	d := bcs.NewDecoder(b)
	var info BlobInfo
	if v := d.U8(); d.Err() == nil && v != blobInfoVersion {
		return BlobInfo{}, fmt.Errorf("%w: blob info version %d", ErrCorrupt, v)
	}
	if d.Option() {
		info.Invalid = &Invalidation{Epoch: d.U32(), Event: decodeEventID(d)}
	}
	n := d.Len(MaxRegistrations, 32+1+4+1+40)
	for i := 0; i < n && d.Err() == nil; i++ {
		r := Registration{ObjectID: d.Array32(), Deletable: d.Bool(), EndEpoch: d.U32()}
		if d.Option() {
			e := d.U32()
			r.CertifiedEpoch = &e
		}
		r.Event = decodeEventID(d)
		if i > 0 && slices.Compare(info.Registrations[i-1].ObjectID[:], r.ObjectID[:]) >= 0 {
			return BlobInfo{}, fmt.Errorf("%w: blob info registrations out of order", ErrCorrupt)
		}
		info.Registrations = append(info.Registrations, r)
	}
	if err := d.Finish(); err != nil {
		return BlobInfo{}, fmt.Errorf("%w: blob info: %w", ErrCorrupt, err)
	}
	return info, nil
}

// BlobInfo returns the record of a blob (ErrNotFound, ErrCorrupt).
func (s *Store) BlobInfo(id blob.ID) (BlobInfo, error) {
	v, err := s.get(BlobInfoKey(id))
	if err != nil {
		return BlobInfo{}, err
	}
	return UnmarshalBlobInfo(v)
}

// ForEachBlobInfo calls fn for every recorded blob in blob-ID order. It
// stops at the first error fn returns. A corrupted record is reported as an
// ErrCorrupt error.
func (s *Store) ForEachBlobInfo(fn func(id blob.ID, info BlobInfo) error) error {
	return s.scan([]byte{tBlobInfo}, func(k, p []byte) error {
		if len(k) != 33 {
			return fmt.Errorf("%w: blob info key %x", ErrCorrupt, k)
		}
		info, err := UnmarshalBlobInfo(p)
		if err != nil {
			return err
		}
		return fn(blob.ID(k[1:]), info)
	})
}
