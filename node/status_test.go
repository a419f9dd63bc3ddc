package node

import (
	"testing"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/store"
)

func TestStatusOf(t *testing.T) {
	e := func(n uint32) *uint32 { return &n }
	var info store.BlobInfo
	if st := statusOf(&info, 1); st.Kind != nodeapi.Nonexistent {
		t.Fatalf("%+v", st)
	}
	info.Put(store.Registration{ObjectID: [32]byte{1}, Deletable: true, EndEpoch: 5, CertifiedEpoch: e(2)})
	info.Put(store.Registration{ObjectID: [32]byte{2}, Deletable: true, EndEpoch: 5})
	st := statusOf(&info, 1)
	if st.Kind != nodeapi.Deletable || st.DeletableCounts != (nodeapi.DeletableCounts{Total: 2, Certified: 1}) || *st.InitialCertifiedEpoch != 2 {
		t.Fatalf("%+v", st)
	}
	// Permanent: the certified registration is preferred over a longer
	// uncertified one; expired registrations do not count.
	info.Put(store.Registration{ObjectID: [32]byte{3}, EndEpoch: 9, Event: ids.EventID{Seq: 3}})
	info.Put(store.Registration{ObjectID: [32]byte{4}, EndEpoch: 6, CertifiedEpoch: e(1), Event: ids.EventID{Seq: 4}})
	info.Put(store.Registration{ObjectID: [32]byte{5}, EndEpoch: 2, CertifiedEpoch: e(1), Event: ids.EventID{Seq: 5}})
	st = statusOf(&info, 3)
	if st.Kind != nodeapi.Permanent || !st.IsCertified || st.EndEpoch != 6 || st.Event.Seq != 4 || *st.InitialCertifiedEpoch != 1 || st.DeletableCounts.Total != 2 {
		t.Fatalf("%+v", st)
	}
	info.Invalid = &store.Invalidation{Epoch: 3, Event: ids.EventID{Seq: 9}}
	if st := statusOf(&info, 3); st.Kind != nodeapi.Invalid || st.Event.Seq != 9 {
		t.Fatalf("%+v", st)
	}
}
