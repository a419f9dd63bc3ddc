package chain

import (
	"fmt"

	"github.com/walrus-go/walrus/bcs"
	"github.com/walrus-go/walrus/bls"
	"github.com/walrus-go/walrus/committee"
	"github.com/walrus-go/walrus/ids"
)

// Query answers are BCS. This file holds the shapes that are not a single
// stored value (those are System, Account, Object), so that the ABCI
// application and chainclient agree on them.

// MaxEventsPerQuery bounds one /events answer.
const MaxEventsPerQuery = 1000

// MemberInfo is a committee member as queries show it: its assignment plus
// its pool's current network details.
type MemberInfo struct {
	NodeID           ids.ObjectID
	Name             string
	NetworkAddress   string
	PublicKey        [48]byte
	NetworkPublicKey []byte
	Shards           []uint16
}

// CommitteeInfo answers /committee/{epoch}.
type CommitteeInfo struct {
	Epoch   uint32
	NShards uint16
	Members []MemberInfo // sorted by node ID: the signer-index order
}

// Marshal encodes the answer.
func (c *CommitteeInfo) Marshal() []byte {
	b := bcs.AppendU16(bcs.AppendU32(nil, c.Epoch), c.NShards)
	b = bcs.AppendLen(b, len(c.Members))
	for _, m := range c.Members {
		b = append(b, m.NodeID[:]...)
		b = bcs.AppendString(b, m.Name)
		b = bcs.AppendString(b, m.NetworkAddress)
		b = append(b, m.PublicKey[:]...)
		b = bcs.AppendBytes(b, m.NetworkPublicKey)
		b = bcs.AppendLen(b, len(m.Shards))
		for _, s := range m.Shards {
			b = bcs.AppendU16(b, s)
		}
	}
	return b
}

// UnmarshalCommitteeInfo decodes a /committee answer.
func UnmarshalCommitteeInfo(b []byte) (*CommitteeInfo, error) {
	d := bcs.NewDecoder(b)
	c := &CommitteeInfo{Epoch: d.U32(), NShards: d.U16()}
	n := d.Len(1<<16, 86)
	for range n {
		m := MemberInfo{NodeID: d.Array32(), Name: d.String(maxNameLen), NetworkAddress: d.String(maxAddressLen)}
		copy(m.PublicKey[:], d.Fixed(48))
		m.NetworkPublicKey = append([]byte(nil), d.Bytes(maxNetKeyLen)...)
		k := d.Len(1<<16, 2)
		for range k {
			m.Shards = append(m.Shards, d.U16())
		}
		c.Members = append(c.Members, m)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: committee answer: %w", err)
	}
	return c, nil
}

// MarshalObjects encodes a list of objects (/blobs/owner, /storage/owner, /blobs/id, /pools, /staked).
func MarshalObjects(objs []*Object) []byte {
	b := bcs.AppendLen(nil, len(objs))
	for _, o := range objs {
		b = bcs.AppendBytes(b, o.Marshal())
	}
	return b
}

// UnmarshalObjects decodes a list of objects.
func UnmarshalObjects(b []byte) ([]*Object, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(1<<20, 1)
	var out []*Object
	for range n {
		raw := d.Bytes(1 << 20)
		if d.Err() != nil {
			break
		}
		o, err := UnmarshalObject(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: object list: %w", err)
	}
	return out, nil
}

// BlobStatus answers /blobs/id/{blob_id}: every object holding the blob ID
// (Blob or SharedBlob) and whether the ID was declared invalid.
type BlobStatus struct {
	Objects      []*Object
	Invalid      bool
	InvalidEpoch uint32
}

// Marshal encodes the answer.
func (s *BlobStatus) Marshal() []byte {
	b := MarshalObjects(s.Objects)
	b = bcs.AppendBool(b, s.Invalid)
	return bcs.AppendU32(b, s.InvalidEpoch)
}

// UnmarshalBlobStatus decodes a /blobs/id answer.
func UnmarshalBlobStatus(b []byte) (*BlobStatus, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(1<<20, 1)
	s := &BlobStatus{}
	for range n {
		raw := d.Bytes(1 << 20)
		if d.Err() != nil {
			break
		}
		o, err := UnmarshalObject(raw)
		if err != nil {
			return nil, err
		}
		s.Objects = append(s.Objects, o)
	}
	s.Invalid = d.Bool()
	s.InvalidEpoch = d.U32()
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: blob status: %w", err)
	}
	return s, nil
}

// EventPage answers /events?after=: events in cursor order, and the height
// up to which the answer is complete (the last committed block when the
// page is not full), so that a follower can advance past empty blocks.
type EventPage struct {
	Events     []EventRecord
	Through    uint64
	LastHeight uint64
}

// Marshal encodes the page.
func (p *EventPage) Marshal() []byte {
	b := bcs.AppendLen(nil, len(p.Events))
	for i := range p.Events {
		b = append(b, p.Events[i].Marshal()...)
	}
	return bcs.AppendU64(bcs.AppendU64(b, p.Through), p.LastHeight)
}

// UnmarshalEventPage decodes a page.
func UnmarshalEventPage(b []byte) (*EventPage, error) {
	d := bcs.NewDecoder(b)
	n := d.Len(MaxEventsPerQuery, 50)
	p := &EventPage{}
	for range n {
		p.Events = append(p.Events, DecodeEventRecord(d))
	}
	p.Through = d.U64()
	p.LastHeight = d.U64()
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: event page: %w", err)
	}
	return p, nil
}

// TxData is the Data of a transaction's ABCI result: its digest and the
// objects it created.
type TxData struct {
	Digest  ids.Digest
	Created []ids.ObjectID
}

// Marshal encodes the data.
func (t *TxData) Marshal() []byte {
	b := bcs.AppendLen(append([]byte(nil), t.Digest[:]...), len(t.Created))
	for _, id := range t.Created {
		b = append(b, id[:]...)
	}
	return b
}

// UnmarshalTxData decodes a transaction's result data.
func UnmarshalTxData(b []byte) (*TxData, error) {
	d := bcs.NewDecoder(b)
	t := &TxData{Digest: d.Array32()}
	n := d.Len(1<<16, 32)
	for range n {
		t.Created = append(t.Created, d.Array32())
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("chain: tx data: %w", err)
	}
	return t, nil
}

// Committee builds the committee this answer describes, with each member's
// network address and network public key (for clients and nodes that talk
// to the members).
func (c *CommitteeInfo) Committee() (*committee.Committee, error) {
	members := make([]committee.Member, len(c.Members))
	for i, m := range c.Members {
		pk, err := bls.ParsePublicKey(m.PublicKey[:])
		if err != nil {
			return nil, fmt.Errorf("chain: committee member %s: %w", m.NodeID, err)
		}
		members[i] = committee.Member{NodeID: m.NodeID, PublicKey: pk, NetworkAddress: m.NetworkAddress,
			NetworkPublicKey: m.NetworkPublicKey, Shards: m.Shards}
	}
	return committee.New(c.Epoch, int(c.NShards), members)
}
