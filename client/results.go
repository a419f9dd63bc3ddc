package client

import (
	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
)

// The Walrus JSON results (protocol spec 7.2), shared by the CLI and the
// gateway. Enums are externally tagged objects with one camelCase key, as
// serde writes them: a struct of pointers with omitempty, exactly one set.

// BlobStatus is the status of a blob ID (spec 3.6), as nodes report it.
type BlobStatus = nodeapi.BlobStatus

// BlobStoreResult is the outcome of storing one blob: exactly one field is set.
type BlobStoreResult struct {
	NewlyCreated     *NewlyCreated     `json:"newlyCreated,omitempty"`
	AlreadyCertified *AlreadyCertified `json:"alreadyCertified,omitempty"`
	MarkedInvalid    *MarkedInvalid    `json:"markedInvalid,omitempty"`
	Error            *StoreError       `json:"error,omitempty"`
}

// BlobID is the blob ID the result is about (nil for an error before encoding).
func (r *BlobStoreResult) BlobID() *blob.ID {
	switch {
	case r.NewlyCreated != nil:
		return &r.NewlyCreated.BlobObject.BlobID
	case r.AlreadyCertified != nil:
		return &r.AlreadyCertified.BlobID
	case r.MarkedInvalid != nil:
		return &r.MarkedInvalid.BlobID
	case r.Error != nil:
		return r.Error.BlobID
	}
	return nil
}

// EndEpoch is the epoch until which the blob is stored (exclusive), if stored.
func (r *BlobStoreResult) EndEpoch() (uint32, bool) {
	switch {
	case r.NewlyCreated != nil:
		return r.NewlyCreated.BlobObject.Storage.EndEpoch, true
	case r.AlreadyCertified != nil:
		return r.AlreadyCertified.EndEpoch, true
	}
	return 0, false
}

// NewlyCreated: the blob was stored by this call (or an owned registration
// was completed or extended).
type NewlyCreated struct {
	BlobObject        BlobObject        `json:"blobObject"`
	ResourceOperation ResourceOperation `json:"resourceOperation"`
	// Cost is the storage and write fees paid, in FROST, excluding transaction fees.
	Cost uint64 `json:"cost"`
	// SharedBlobObject is the SharedBlob created when the store shared the blob.
	SharedBlobObject *ids.ObjectID `json:"sharedBlobObject,omitempty"`
}

// AlreadyCertified: the blob is already certified for long enough; nothing
// was paid. Event is the certification event, or Object the wallet's own
// Blob object that holds the certification (a deletable blob it owns).
type AlreadyCertified struct {
	BlobID   blob.ID       `json:"blobId"`
	Event    *ids.EventID  `json:"event,omitempty"`
	Object   *ids.ObjectID `json:"object,omitempty"`
	EndEpoch uint32        `json:"endEpoch"`
}

// MarkedInvalid: the blob ID was declared invalid.
type MarkedInvalid struct {
	BlobID blob.ID     `json:"blobId"`
	Event  ids.EventID `json:"event"`
}

// StoreError: the store failed in FailurePhase ("encode", "status",
// "register", "upload", "certify", "extend", "read").
type StoreError struct {
	BlobID       *blob.ID `json:"blobId"`
	FailurePhase string   `json:"failurePhase"`
	ErrorMsg     string   `json:"errorMsg"`
}

// BlobObject is a Blob object in Walrus's JSON form.
type BlobObject struct {
	ID              ids.ObjectID  `json:"id"`
	RegisteredEpoch uint32        `json:"registeredEpoch"`
	BlobID          blob.ID       `json:"blobId"`
	Size            uint64        `json:"size"`
	EncodingType    string        `json:"encodingType"`
	CertifiedEpoch  *uint32       `json:"certifiedEpoch"`
	Storage         StorageObject `json:"storage"`
	Deletable       bool          `json:"deletable"`
}

// StorageObject is a Storage resource in Walrus's JSON form.
type StorageObject struct {
	ID          ids.ObjectID `json:"id"`
	StartEpoch  uint32       `json:"startEpoch"`
	EndEpoch    uint32       `json:"endEpoch"`
	StorageSize uint64       `json:"storageSize"`
}

// EndEpoch is the first epoch the blob is no longer stored in.
func (b BlobObject) EndEpoch() uint32 { return b.Storage.EndEpoch }

// Certified reports whether the blob was certified.
func (b BlobObject) Certified() bool { return b.CertifiedEpoch != nil }

// blobObjectOf converts a chain Blob.
func blobObjectOf(b *chain.Blob) BlobObject {
	return BlobObject{ID: b.ID, RegisteredEpoch: b.RegisteredEpoch, BlobID: b.BlobID, Size: b.Size,
		EncodingType: b.EncodingType.String(), CertifiedEpoch: b.CertifiedEpoch, Storage: storageObjectOf(&b.Storage),
		Deletable: b.Deletable}
}

// storageObjectOf converts a chain Storage.
func storageObjectOf(s *chain.Storage) StorageObject {
	return StorageObject{ID: s.ID, StartEpoch: s.StartEpoch, EndEpoch: s.EndEpoch, StorageSize: s.Size}
}

// ResourceOperation is how the blob got its registration (Walrus's RegisterBlobOp).
type ResourceOperation struct {
	RegisterFromScratch        *RegisterFromScratch `json:"registerFromScratch,omitempty"`
	ReuseStorage               *EncodedLength       `json:"reuseStorage,omitempty"`
	ReuseRegistration          *EncodedLength       `json:"reuseRegistration,omitempty"`
	ReuseAndExtend             *ExtendOp            `json:"reuseAndExtend,omitempty"`
	ReuseAndExtendNonCertified *ExtendOp            `json:"reuseAndExtendNonCertified,omitempty"`
}

// RegisterFromScratch: storage was reserved and the blob registered.
type RegisterFromScratch struct {
	EncodedLength uint64 `json:"encodedLength"`
	EpochsAhead   uint32 `json:"epochsAhead"`
}

// EncodedLength is the payload of reuseStorage and reuseRegistration.
type EncodedLength struct {
	EncodedLength uint64 `json:"encodedLength"`
}

// ExtendOp: an owned blob was reused and its lifetime extended.
type ExtendOp struct {
	EncodedLength  uint64 `json:"encodedLength"`
	EpochsExtended uint32 `json:"epochsExtended"`
}

// EncodedLength returns the encoded length the operation covers.
func (o *ResourceOperation) EncodedLength() uint64 {
	switch {
	case o.RegisterFromScratch != nil:
		return o.RegisterFromScratch.EncodedLength
	case o.ReuseStorage != nil:
		return o.ReuseStorage.EncodedLength
	case o.ReuseRegistration != nil:
		return o.ReuseRegistration.EncodedLength
	case o.ReuseAndExtend != nil:
		return o.ReuseAndExtend.EncodedLength
	case o.ReuseAndExtendNonCertified != nil:
		return o.ReuseAndExtendNonCertified.EncodedLength
	}
	return 0
}

// BlobStoreResultWithPath is one element of `walrus store --json`.
type BlobStoreResultWithPath struct {
	BlobStoreResult BlobStoreResult `json:"blobStoreResult"`
	Path            string          `json:"path"`
}

// blobObjects converts chain Blobs.
func blobObjects(bs []*chain.Blob) []BlobObject {
	if bs == nil {
		return nil
	}
	out := make([]BlobObject, len(bs))
	for i, b := range bs {
		out[i] = blobObjectOf(b)
	}
	return out
}
