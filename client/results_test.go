package client

import (
	"encoding/json"
	"testing"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/ids"
)

// The JSON shapes of spec 7.2, byte for byte.
func TestResultJSON(t *testing.T) {
	var id blob.ID
	id[0] = 1
	var obj, st ids.ObjectID
	obj[31], st[31] = 2, 3
	ce := uint32(4)
	nc := BlobStoreResult{NewlyCreated: &NewlyCreated{
		BlobObject: BlobObject{ID: obj, RegisteredEpoch: 4, BlobID: id, Size: 17, EncodingType: "RS2", CertifiedEpoch: &ce,
			Storage: StorageObject{ID: st, StartEpoch: 4, EndEpoch: 5, StorageSize: 66034000}, Deletable: false},
		ResourceOperation: ResourceOperation{RegisterFromScratch: &RegisterFromScratch{EncodedLength: 66034000, EpochsAhead: 1}},
		Cost:              132300}}
	want := `{"newlyCreated":{"blobObject":{"id":"0x0000000000000000000000000000000000000000000000000000000000000002","registeredEpoch":4,` +
		`"blobId":"` + id.String() + `","size":17,"encodingType":"RS2","certifiedEpoch":4,"storage":{"id":"0x0000000000000000000000000000000000000000000000000000000000000003",` +
		`"startEpoch":4,"endEpoch":5,"storageSize":66034000},"deletable":false},"resourceOperation":{"registerFromScratch":{"encodedLength":66034000,"epochsAhead":1}},"cost":132300}}`
	if b, _ := json.Marshal(nc); string(b) != want {
		t.Errorf("newlyCreated:\n%s\nwant\n%s", b, want)
	}
	var d ids.Digest
	ac := BlobStoreResult{AlreadyCertified: &AlreadyCertified{BlobID: id, Event: &ids.EventID{TxDigest: d, Seq: 0}, EndEpoch: 35}}
	want = `{"alreadyCertified":{"blobId":"` + id.String() + `","event":{"txDigest":"` + d.String() + `","eventSeq":"0"},"endEpoch":35}}`
	if b, _ := json.Marshal(ac); string(b) != want {
		t.Errorf("alreadyCertified:\n%s\nwant\n%s", b, want)
	}
	ao := BlobStoreResult{AlreadyCertified: &AlreadyCertified{BlobID: id, Object: &obj, EndEpoch: 35}}
	want = `{"alreadyCertified":{"blobId":"` + id.String() + `","object":"` + obj.String() + `","endEpoch":35}}`
	if b, _ := json.Marshal(ao); string(b) != want {
		t.Errorf("alreadyCertified by object:\n%s\nwant\n%s", b, want)
	}
	er := BlobStoreResult{Error: &StoreError{FailurePhase: "register", ErrorMsg: "no"}}
	want = `{"error":{"blobId":null,"failurePhase":"register","errorMsg":"no"}}`
	if b, _ := json.Marshal(er); string(b) != want {
		t.Errorf("error:\n%s\nwant\n%s", b, want)
	}
	// And back.
	var back BlobStoreResult
	b, _ := json.Marshal(nc)
	if err := json.Unmarshal(b, &back); err != nil || back.NewlyCreated == nil || back.NewlyCreated.BlobObject.BlobID != id || *back.BlobID() != id {
		t.Fatalf("round trip: %v", err)
	}
	if e, ok := back.EndEpoch(); !ok || e != 5 {
		t.Fatal("end epoch")
	}
}
