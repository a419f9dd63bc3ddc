package nodeapi

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

// success is the JSON success envelope.
type success[T any] struct {
	Success struct {
		Code int `json:"code"`
		Data T   `json:"data"`
	} `json:"success"`
}

// StoredStatus says whether a node holds metadata or a sliver: Walrus's
// StoredOnNodeStatus, plus "buffered" for data in the pending cache.
type StoredStatus string

// Stored statuses.
const (
	StatusNonexistent StoredStatus = "nonexistent"
	StatusBuffered    StoredStatus = "buffered"
	StatusStored      StoredStatus = "stored"
)

// BlobStatusKind is the variant of a BlobStatus.
type BlobStatusKind int

// Kinds of BlobStatus, in the order clients rank them.
const (
	Nonexistent BlobStatusKind = iota
	Deletable
	Permanent
	Invalid
)

// DeletableCounts counts the live deletable Blob objects of a blob ID
// (Walrus's field names, which are not camelCase).
type DeletableCounts struct {
	Total     uint32 `json:"count_deletable_total"`
	Certified uint32 `json:"count_deletable_certified"`
}

// BlobStatus is a node's view of a blob ID (spec 3.6), with Walrus's JSON
// form: "nonexistent", {"invalid":{"event":…}}, {"permanent":{…}} or
// {"deletable":{…}}.
type BlobStatus struct {
	Kind BlobStatusKind
	// Event: for Invalid the InvalidBlobID event; for Permanent the event
	// that set EndEpoch and IsCertified.
	Event                 ids.EventID
	EndEpoch              uint32 // Permanent
	IsCertified           bool   // Permanent
	DeletableCounts       DeletableCounts
	InitialCertifiedEpoch *uint32
}

type wirePermanent struct {
	EndEpoch              uint32          `json:"endEpoch"`
	IsCertified           bool            `json:"isCertified"`
	StatusEvent           ids.EventID     `json:"statusEvent"`
	DeletableCounts       DeletableCounts `json:"deletableCounts"`
	InitialCertifiedEpoch *uint32         `json:"initialCertifiedEpoch"`
}

type wireDeletable struct {
	InitialCertifiedEpoch *uint32         `json:"initialCertifiedEpoch"`
	DeletableCounts       DeletableCounts `json:"deletableCounts"`
}

// MarshalJSON implements json.Marshaler.
func (s BlobStatus) MarshalJSON() ([]byte, error) {
	switch s.Kind {
	case Nonexistent:
		return []byte(`"nonexistent"`), nil
	case Invalid:
		return json.Marshal(map[string]any{"invalid": map[string]any{"event": s.Event}})
	case Permanent:
		return json.Marshal(map[string]any{"permanent": wirePermanent{s.EndEpoch, s.IsCertified, s.Event, s.DeletableCounts, s.InitialCertifiedEpoch}})
	case Deletable:
		return json.Marshal(map[string]any{"deletable": wireDeletable{s.InitialCertifiedEpoch, s.DeletableCounts}})
	}
	return nil, fmt.Errorf("nodeapi: unknown blob status kind %d", s.Kind)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *BlobStatus) UnmarshalJSON(b []byte) error {
	var str string
	if json.Unmarshal(b, &str) == nil {
		if str != "nonexistent" {
			return fmt.Errorf("nodeapi: blob status %q", str)
		}
		*s = BlobStatus{}
		return nil
	}
	var w struct {
		Invalid *struct {
			Event ids.EventID `json:"event"`
		} `json:"invalid"`
		Permanent *wirePermanent `json:"permanent"`
		Deletable *wireDeletable `json:"deletable"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	switch {
	case w.Invalid != nil:
		*s = BlobStatus{Kind: Invalid, Event: w.Invalid.Event}
	case w.Permanent != nil:
		p := w.Permanent
		*s = BlobStatus{Kind: Permanent, Event: p.StatusEvent, EndEpoch: p.EndEpoch, IsCertified: p.IsCertified,
			DeletableCounts: p.DeletableCounts, InitialCertifiedEpoch: p.InitialCertifiedEpoch}
	case w.Deletable != nil:
		*s = BlobStatus{Kind: Deletable, DeletableCounts: w.Deletable.DeletableCounts, InitialCertifiedEpoch: w.Deletable.InitialCertifiedEpoch}
	default:
		return errors.New("nodeapi: blob status with no known variant")
	}
	return nil
}

// Compare orders statuses as Walrus clients do to pick the latest one:
// nonexistent < deletable (by certified count, total count, then an earlier
// initial certification) < permanent (by certified, end epoch, deletable
// counts, earlier initial certification) < invalid.
func (s BlobStatus) Compare(o BlobStatus) int {
	if c := cmp.Compare(s.Kind, o.Kind); c != 0 || s.Kind == Nonexistent || s.Kind == Invalid {
		return c
	}
	counts := func(a, b DeletableCounts) int {
		return cmp.Or(cmp.Compare(a.Certified, b.Certified), cmp.Compare(a.Total, b.Total))
	}
	if s.Kind == Permanent {
		if c := cmp.Or(cmpBool(s.IsCertified, o.IsCertified), cmp.Compare(s.EndEpoch, o.EndEpoch), counts(s.DeletableCounts, o.DeletableCounts)); c != 0 {
			return c
		}
	} else if c := counts(s.DeletableCounts, o.DeletableCounts); c != 0 {
		return c
	}
	return -cmpEpoch(s.InitialCertifiedEpoch, o.InitialCertifiedEpoch)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// cmpEpoch orders optional epochs with None first (Rust's Option order).
func cmpEpoch(a, b *uint32) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// Confirmation is the data of a confirmation answer: {"signed": …}.
type Confirmation struct {
	Signed *wire.SignedMessage `json:"signed"`
}

// Duration is a Rust std Duration in JSON: {"secs": u64, "nanos": u32}.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	t := time.Duration(d)
	return json.Marshal(struct {
		Secs  int64 `json:"secs"`
		Nanos int64 `json:"nanos"`
	}{int64(t / time.Second), int64(t % time.Second)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var w struct {
		Secs  int64 `json:"secs"`
		Nanos int64 `json:"nanos"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = Duration(time.Duration(w.Secs)*time.Second + time.Duration(w.Nanos))
	return nil
}

// HealthInfo is Walrus's ServiceHealthInfo (GET /v1/health).
type HealthInfo struct {
	Uptime        Duration      `json:"uptime"`
	Epoch         uint32        `json:"epoch"`
	PublicKey     PublicKey     `json:"publicKey"`
	NodeStatus    string        `json:"nodeStatus"`
	EventProgress EventProgress `json:"eventProgress"`
	ShardSummary  ShardSummary  `json:"shardSummary"`
	ShardDetail   *ShardDetail  `json:"shardDetail,omitempty"`
	// LatestCheckpointSequenceNumber is, here, the chain height the node has
	// followed events to.
	LatestCheckpointSequenceNumber *uint64 `json:"latestCheckpointSequenceNumber,omitempty"`
	// ProcessedHeight (this implementation's; Walrus nodes omit it) is the
	// chain height up to which the node has handled every event, so that
	// its answers reflect every transaction at or below it.
	ProcessedHeight *uint64 `json:"processedHeight,omitempty"`
}

// Node statuses reported in HealthInfo.NodeStatus (Walrus's names).
const (
	NodeStatusStandby            = "Standby"
	NodeStatusActive             = "Active"
	NodeStatusRecoveryCatchUp    = "RecoveryCatchUp"
	NodeStatusRecoveryInProgress = "RecoveryInProgress"
)

// PublicKey is a BLS public key in JSON: standard base64 of its 48 bytes
// (fastcrypto's human-readable form).
type PublicKey [wire.PublicKeyLen]byte

// MarshalText implements encoding.TextMarshaler.
func (k PublicKey) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(k[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PublicKey) UnmarshalText(b []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(raw) != len(k) {
		return fmt.Errorf("nodeapi: public key %q", b)
	}
	copy(k[:], raw)
	return nil
}

// EventProgress reports how far the node has processed the event stream.
type EventProgress struct {
	Persisted                 uint64  `json:"persisted"`
	Pending                   uint64  `json:"pending"`
	HighestFinishedEventIndex *uint64 `json:"highestFinishedEventIndex,omitempty"`
}

// ShardSummary counts the node's shards by status.
type ShardSummary struct {
	Owned            int              `json:"owned"`
	OwnedShardStatus OwnedShardStatus `json:"ownedShardStatus"`
	ReadOnly         int              `json:"readOnly"`
}

// OwnedShardStatus counts owned shards by status.
type OwnedShardStatus struct {
	Unknown    int `json:"unknown"`
	Ready      int `json:"ready"`
	InTransfer int `json:"inTransfer"`
	InRecovery int `json:"inRecovery"`
}

// Shard statuses (ShardHealthInfo.Status).
const (
	ShardUnknown    = "unknown"
	ShardReady      = "ready"
	ShardInTransfer = "inTransfer"
	ShardInRecovery = "inRecovery"
	ShardReadOnly   = "readOnly"
)

// ShardDetail lists every shard with its status (?detailed=true).
type ShardDetail struct {
	Owned []ShardHealth `json:"owned"`
	Other []ShardHealth `json:"other"`
}

// ShardHealth is one shard's status.
type ShardHealth struct {
	Shard  uint16 `json:"shard"`
	Status string `json:"status"`
}
