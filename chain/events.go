package chain

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// Event types: the Walrus event names (spec 6.2).
const (
	EventBlobRegistered          = "BlobRegistered"
	EventBlobCertified           = "BlobCertified"
	EventBlobDeleted             = "BlobDeleted"
	EventInvalidBlobID           = "InvalidBlobID"
	EventEpochChangeStart        = "EpochChangeStart"
	EventEpochChangeDone         = "EpochChangeDone"
	EventShardsReceived          = "ShardsReceived"
	EventEpochParametersSelected = "EpochParametersSelected"
	EventPricesUpdated           = "PricesUpdated"
)

// Cursor is the position of an event: block height, transaction index
// (block-level events use the block's transaction count) and the event's
// index within its transaction or block step. Cursors order all events.
type Cursor struct {
	Height     uint64
	TxIndex    uint32
	EventIndex uint32
}

// Less orders cursors.
func (c Cursor) Less(o Cursor) bool {
	if c.Height != o.Height {
		return c.Height < o.Height
	}
	if c.TxIndex != o.TxIndex {
		return c.TxIndex < o.TxIndex
	}
	return c.EventIndex < o.EventIndex
}

// String is "height.tx.event", the form of the /events?after= query.
func (c Cursor) String() string { return fmt.Sprintf("%d.%d.%d", c.Height, c.TxIndex, c.EventIndex) }

// ParseCursor parses "height.tx.event".
func ParseCursor(s string) (Cursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Cursor{}, fmt.Errorf("%w: cursor %q", ids.ErrParse, s)
	}
	h, err1 := strconv.ParseUint(parts[0], 10, 64)
	t, err2 := strconv.ParseUint(parts[1], 10, 32)
	e, err3 := strconv.ParseUint(parts[2], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return Cursor{}, fmt.Errorf("%w: cursor %q", ids.ErrParse, s)
	}
	return Cursor{h, uint32(t), uint32(e)}, nil
}

// Event is one emitted event: its Walrus type name, the BCS payload (fields
// in the order of spec 6.2), and the indexed attributes.
type Event struct {
	Type     string
	Data     []byte
	BlobID   *blob.ID
	ObjectID *ids.ObjectID
	Epoch    uint32
}

// EventRecord is an event as stored and served: where it is, the digest of
// the transaction (or block step) that emitted it and its sequence number
// there (Walrus's EventID {txDigest, eventSeq}).
type EventRecord struct {
	Cursor   Cursor
	TxDigest ids.Digest
	Event    Event
}

// Marshal encodes the record.
func (r *EventRecord) Marshal() []byte {
	b := bcs.AppendU64(nil, r.Cursor.Height)
	b = bcs.AppendU32(b, r.Cursor.TxIndex)
	b = bcs.AppendU32(b, r.Cursor.EventIndex)
	b = append(b, r.TxDigest[:]...)
	b = bcs.AppendString(b, r.Event.Type)
	b = bcs.AppendBytes(b, r.Event.Data)
	if r.Event.BlobID != nil {
		b = append(bcs.AppendULEB128(b, 1), r.Event.BlobID[:]...)
	} else {
		b = bcs.AppendULEB128(b, 0)
	}
	if r.Event.ObjectID != nil {
		b = append(bcs.AppendULEB128(b, 1), r.Event.ObjectID[:]...)
	} else {
		b = bcs.AppendULEB128(b, 0)
	}
	return bcs.AppendU32(b, r.Event.Epoch)
}

// DecodeEventRecord reads one record.
func DecodeEventRecord(d *bcs.Decoder) EventRecord {
	var r EventRecord
	r.Cursor = Cursor{d.U64(), d.U32(), d.U32()}
	r.TxDigest = d.Array32()
	r.Event.Type = d.String(64)
	r.Event.Data = append([]byte(nil), d.Bytes(1<<20)...)
	if d.Option() {
		id := blob.ID(d.Array32())
		r.Event.BlobID = &id
	}
	if d.Option() {
		id := ids.ObjectID(d.Array32())
		r.Event.ObjectID = &id
	}
	r.Event.Epoch = d.U32()
	return r
}

// UnmarshalEventRecord decodes exactly one record.
func UnmarshalEventRecord(b []byte) (EventRecord, error) {
	d := bcs.NewDecoder(b)
	r := DecodeEventRecord(d)
	return r, d.Finish()
}

// BlobRegistered is the payload of a BlobRegistered event.
type BlobRegistered struct {
	Epoch        uint32
	BlobID       blob.ID
	Size         uint64
	EncodingType blob.EncodingType
	EndEpoch     uint32
	Deletable    bool
	ObjectID     ids.ObjectID
}

// BlobCertified is the payload of a BlobCertified event.
type BlobCertified struct {
	Epoch       uint32
	BlobID      blob.ID
	EndEpoch    uint32
	Deletable   bool
	ObjectID    ids.ObjectID
	IsExtension bool
}

// BlobDeleted is the payload of a BlobDeleted event.
type BlobDeleted struct {
	Epoch        uint32
	BlobID       blob.ID
	EndEpoch     uint32
	ObjectID     ids.ObjectID
	WasCertified bool
}

// InvalidBlobIDEvent is the payload of an InvalidBlobID event.
type InvalidBlobIDEvent struct {
	Epoch  uint32
	BlobID blob.ID
}

// EpochEvent is the payload of EpochChangeStart, EpochChangeDone and
// EpochParametersSelected (the next epoch): one u32.
type EpochEvent struct{ Epoch uint32 }

// ShardsEvent is the payload of ShardsReceived.
type ShardsEvent struct {
	Epoch  uint32
	Shards []uint16
}

// PricesUpdated is the payload of PricesUpdated.
type PricesUpdated struct {
	Epoch        uint32
	StoragePrice uint64
	WritePrice   uint64
}

func (e *BlobRegistered) event() Event {
	b := bcs.AppendU32(nil, e.Epoch)
	b = append(b, e.BlobID[:]...)
	b = bcs.AppendU64(b, e.Size)
	b = bcs.AppendU8(b, uint8(e.EncodingType))
	b = bcs.AppendU32(b, e.EndEpoch)
	b = bcs.AppendBool(b, e.Deletable)
	b = append(b, e.ObjectID[:]...)
	return Event{Type: EventBlobRegistered, Data: b, BlobID: &e.BlobID, ObjectID: &e.ObjectID, Epoch: e.Epoch}
}

func (e *BlobCertified) event() Event {
	b := bcs.AppendU32(nil, e.Epoch)
	b = append(b, e.BlobID[:]...)
	b = bcs.AppendU32(b, e.EndEpoch)
	b = bcs.AppendBool(b, e.Deletable)
	b = append(b, e.ObjectID[:]...)
	b = bcs.AppendBool(b, e.IsExtension)
	return Event{Type: EventBlobCertified, Data: b, BlobID: &e.BlobID, ObjectID: &e.ObjectID, Epoch: e.Epoch}
}

func (e *BlobDeleted) event() Event {
	b := bcs.AppendU32(nil, e.Epoch)
	b = append(b, e.BlobID[:]...)
	b = bcs.AppendU32(b, e.EndEpoch)
	b = append(b, e.ObjectID[:]...)
	b = bcs.AppendBool(b, e.WasCertified)
	return Event{Type: EventBlobDeleted, Data: b, BlobID: &e.BlobID, ObjectID: &e.ObjectID, Epoch: e.Epoch}
}

func (e *InvalidBlobIDEvent) event() Event {
	b := append(bcs.AppendU32(nil, e.Epoch), e.BlobID[:]...)
	return Event{Type: EventInvalidBlobID, Data: b, BlobID: &e.BlobID, Epoch: e.Epoch}
}

func epochEvent(typ string, epoch uint32) Event {
	return Event{Type: typ, Data: bcs.AppendU32(nil, epoch), Epoch: epoch}
}

func (e *ShardsEvent) event() Event {
	b := bcs.AppendLen(bcs.AppendU32(nil, e.Epoch), len(e.Shards))
	for _, s := range e.Shards {
		b = bcs.AppendU16(b, s)
	}
	return Event{Type: EventShardsReceived, Data: b, Epoch: e.Epoch}
}

func (e *PricesUpdated) event() Event {
	b := bcs.AppendU64(bcs.AppendU64(bcs.AppendU32(nil, e.Epoch), e.StoragePrice), e.WritePrice)
	return Event{Type: EventPricesUpdated, Data: b, Epoch: e.Epoch}
}

// ParseBlobRegistered decodes a BlobRegistered payload.
func ParseBlobRegistered(b []byte) (BlobRegistered, error) {
	d := bcs.NewDecoder(b)
	e := BlobRegistered{Epoch: d.U32(), BlobID: d.Array32(), Size: d.U64(), EncodingType: blob.EncodingType(d.U8()),
		EndEpoch: d.U32(), Deletable: d.Bool(), ObjectID: d.Array32()}
	return e, d.Finish()
}

// ParseBlobCertified decodes a BlobCertified payload.
func ParseBlobCertified(b []byte) (BlobCertified, error) {
	d := bcs.NewDecoder(b)
	e := BlobCertified{Epoch: d.U32(), BlobID: d.Array32(), EndEpoch: d.U32(), Deletable: d.Bool(), ObjectID: d.Array32(), IsExtension: d.Bool()}
	return e, d.Finish()
}

// ParseBlobDeleted decodes a BlobDeleted payload.
func ParseBlobDeleted(b []byte) (BlobDeleted, error) {
	d := bcs.NewDecoder(b)
	e := BlobDeleted{Epoch: d.U32(), BlobID: d.Array32(), EndEpoch: d.U32(), ObjectID: d.Array32(), WasCertified: d.Bool()}
	return e, d.Finish()
}

// ParseInvalidBlobID decodes an InvalidBlobID payload.
func ParseInvalidBlobID(b []byte) (InvalidBlobIDEvent, error) {
	d := bcs.NewDecoder(b)
	e := InvalidBlobIDEvent{Epoch: d.U32(), BlobID: d.Array32()}
	return e, d.Finish()
}

// ParseEpochEvent decodes the payload of EpochChangeStart, EpochChangeDone
// or EpochParametersSelected.
func ParseEpochEvent(b []byte) (EpochEvent, error) {
	d := bcs.NewDecoder(b)
	e := EpochEvent{d.U32()}
	return e, d.Finish()
}

// ParseShardsEvent decodes a ShardsReceived payload.
func ParseShardsEvent(b []byte) (ShardsEvent, error) {
	d := bcs.NewDecoder(b)
	e := ShardsEvent{Epoch: d.U32()}
	n := d.Len(65535, 2)
	for range n {
		e.Shards = append(e.Shards, d.U16())
	}
	return e, d.Finish()
}

// ParsePricesUpdated decodes a PricesUpdated payload.
func ParsePricesUpdated(b []byte) (PricesUpdated, error) {
	d := bcs.NewDecoder(b)
	e := PricesUpdated{Epoch: d.U32(), StoragePrice: d.U64(), WritePrice: d.U64()}
	return e, d.Finish()
}
