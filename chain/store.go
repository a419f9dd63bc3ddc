package chain

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// Reader reads committed state. Get returns nil and no error for an absent
// key; an error is an I/O failure of the underlying store, which aborts the
// block (it is never turned into a transaction abort). The returned slice
// must not be modified by the caller and stays valid.
type Reader interface {
	Get(key []byte) ([]byte, error)
}

// Write is one key written by a block: a value, or a deletion.
type Write struct {
	Key     []byte
	Value   []byte
	Deleted bool
}

// Overlay records writes over a Reader. Reads see the overlay's own writes
// first. A transaction runs in a child overlay that is merged into the
// block's overlay on success and dropped on abort.
type Overlay struct {
	parent Reader
	writes map[string]*[]byte // nil pointer: deleted
}

// NewOverlay returns an empty overlay over r.
func NewOverlay(r Reader) *Overlay { return &Overlay{parent: r, writes: map[string]*[]byte{}} }

// Get implements Reader.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		if v == nil {
			return nil, nil
		}
		return *v, nil
	}
	return o.parent.Get(key)
}

// Set records a value; the overlay keeps value, which must not change afterwards.
func (o *Overlay) Set(key, value []byte) {
	v := value
	if v == nil {
		v = []byte{}
	}
	o.writes[string(key)] = &v
}

// Delete records a deletion.
func (o *Overlay) Delete(key []byte) { o.writes[string(key)] = nil }

// Merge copies a child overlay's writes into o.
func (o *Overlay) Merge(child *Overlay) {
	for k, v := range child.writes {
		o.writes[k] = v
	}
}

// Len is the number of keys written.
func (o *Overlay) Len() int { return len(o.writes) }

// Writes returns the writes sorted by key.
func (o *Overlay) Writes() []Write {
	keys := make([]string, 0, len(o.writes))
	for k := range o.writes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Write, len(keys))
	for i, k := range keys {
		v := o.writes[k]
		out[i].Key = []byte(k)
		if v == nil {
			out[i].Deleted = true
		} else {
			out[i].Value = *v
		}
	}
	return out
}

// MemStore is an in-memory committed state: a sorted key/value map. The
// state machine's tests and the CheckTx fuzzers use it; the ABCI application
// keeps state in Pebble instead.
type MemStore struct {
	m map[string][]byte
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

// Get implements Reader.
func (s *MemStore) Get(key []byte) ([]byte, error) { return s.m[string(key)], nil }

// Apply commits writes.
func (s *MemStore) Apply(ws []Write) {
	for _, w := range ws {
		if w.Deleted {
			delete(s.m, string(w.Key))
		} else {
			s.m[string(w.Key)] = w.Value
		}
	}
}

// Scan returns the keys and values under prefix, sorted, after the key
// after (exclusive; nil for the start), at most limit of them (0: all).
func (s *MemStore) Scan(prefix, after []byte, limit int) (keys, values [][]byte) {
	var ks []string
	for k := range s.m {
		if strings.HasPrefix(k, string(prefix)) && (after == nil || bytes.Compare([]byte(k), after) > 0) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		if limit > 0 && len(keys) == limit {
			break
		}
		keys = append(keys, []byte(k))
		values = append(values, s.m[k])
	}
	return keys, values
}

// Key prefixes of the state. Every key starts with one of these bytes; the
// layout is part of the on-disk format (see README.md).
const (
	PrefixSystem   byte = 0x01 // system state (one key)
	PrefixAccount  byte = 0x02 // ‖ address → Account
	PrefixObject   byte = 0x03 // ‖ object ID → Object
	PrefixOwner    byte = 0x04 // ‖ owner address ‖ object ID → kind byte
	PrefixBlobID   byte = 0x05 // ‖ blob ID ‖ object ID → empty (Blob objects by blob ID)
	PrefixEvent    byte = 0x06 // ‖ height u64 BE ‖ tx index u32 BE ‖ event index u32 BE → EventRecord
	PrefixRate     byte = 0x07 // ‖ pool ID ‖ epoch u32 BE → ExchangeRate
	PrefixBLSKey   byte = 0x08 // ‖ BLS public key → pool ID
	PrefixInvalid  byte = 0x09 // ‖ blob ID → epoch u32 (blob IDs declared invalid)
	PrefixReserved byte = 0xf0 // and above: the ABCI application's own keys
)

// KeySystem is the key of the system state.
func KeySystem() []byte { return []byte{PrefixSystem} }

// KeyAccount is the key of an account.
func KeyAccount(a ids.Address) []byte { return append([]byte{PrefixAccount}, a[:]...) }

// KeyObject is the key of an object.
func KeyObject(id ids.ObjectID) []byte { return append([]byte{PrefixObject}, id[:]...) }

// KeyOwnerPrefix is the prefix of the objects owned by a.
func KeyOwnerPrefix(a ids.Address) []byte { return append([]byte{PrefixOwner}, a[:]...) }

func keyOwner(a ids.Address, id ids.ObjectID) []byte { return append(KeyOwnerPrefix(a), id[:]...) }

// KeyBlobIDPrefix is the prefix of the Blob objects with a blob ID.
func KeyBlobIDPrefix(id blob.ID) []byte { return append([]byte{PrefixBlobID}, id[:]...) }

func keyBlobID(id blob.ID, obj ids.ObjectID) []byte { return append(KeyBlobIDPrefix(id), obj[:]...) }

// KeyEvent is the key of an event at a cursor.
func KeyEvent(c Cursor) []byte {
	k := []byte{PrefixEvent}
	k = binary.BigEndian.AppendUint64(k, c.Height)
	k = binary.BigEndian.AppendUint32(k, c.TxIndex)
	return binary.BigEndian.AppendUint32(k, c.EventIndex)
}

// CursorOfEventKey is the inverse of KeyEvent.
func CursorOfEventKey(k []byte) (Cursor, bool) {
	if len(k) != 17 || k[0] != PrefixEvent {
		return Cursor{}, false
	}
	return Cursor{binary.BigEndian.Uint64(k[1:]), binary.BigEndian.Uint32(k[9:]), binary.BigEndian.Uint32(k[13:])}, true
}

func keyRate(pool ids.ObjectID, epoch uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte{PrefixRate}, pool[:]...), epoch)
}

func keyBLS(pk [48]byte) []byte { return append([]byte{PrefixBLSKey}, pk[:]...) }

// KeyInvalid is the key marking a blob ID invalid.
func KeyInvalid(id blob.ID) []byte { return append([]byte{PrefixInvalid}, id[:]...) }
