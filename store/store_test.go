package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/redstuff"
)

func testBlob(t testing.TB, n, size int, seed uint64) *redstuff.Encoded {
	t.Helper()
	enc, err := redstuff.NewEncoder(blob.MustParams(n))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	x, err := enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func openMem(t testing.TB, fs vfs.FS) *Store {
	t.Helper()
	s, err := Open(Config{Dir: "db", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMetadataAndSliversRoundTrip(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	x := testBlob(t, 10, 1000, 1)
	id := x.Metadata.ID
	if _, err := s.Metadata(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("metadata before put: %v", err)
	}
	if err := s.PutMetadata(&x.Metadata); err != nil {
		t.Fatal(err)
	}
	md, err := s.Metadata(id)
	if err != nil || md.ID != id || md.UnencodedLength != 1000 {
		t.Fatalf("metadata: %+v %v", md, err)
	}
	raw, _ := s.MetadataBytes(id)
	if !bytes.Equal(raw, x.Metadata.MarshalBCS()) {
		t.Fatal("metadata bytes differ")
	}
	p := x.Pair(3)
	if err := s.PutSlivers(id, []ShardSliver{{5, &p.Primary}, {5, &p.Secondary}}); err != nil {
		t.Fatal(err)
	}
	for _, sl := range []redstuff.Sliver{p.Primary, p.Secondary} {
		got, err := s.Sliver(5, sl.Type, id)
		if err != nil || !bytes.Equal(got.Data, sl.Data) || got.Index != sl.Index {
			t.Fatalf("%s sliver: %v", sl.Type, err)
		}
		raw, _ := s.SliverBytes(5, sl.Type, id)
		if !bytes.Equal(raw, sl.MarshalBCS()) {
			t.Fatal("sliver bytes differ")
		}
		if ok, err := s.HasSliver(5, sl.Type, id); !ok || err != nil {
			t.Fatal("HasSliver", ok, err)
		}
		if ok, _ := s.HasSliver(6, sl.Type, id); ok {
			t.Fatal("sliver in the wrong shard")
		}
	}
	shards, _ := s.Shards()
	if !slices.Equal(shards, []uint16{5}) {
		t.Fatalf("shards %v", shards)
	}
	ids, _ := s.ShardBlobs(5, blob.Primary, nil, 10)
	if len(ids) != 1 || ids[0] != id {
		t.Fatalf("shard blobs %v", ids)
	}
	if ids, _ := s.ShardBlobs(5, blob.Primary, &id, 10); len(ids) != 0 {
		t.Fatalf("shard blobs after %v", ids)
	}
	if err := s.DeleteShard(5); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.HasSliver(5, blob.Primary, id); ok {
		t.Fatal("sliver survived DeleteShard")
	}
	if shards, _ := s.Shards(); len(shards) != 0 {
		t.Fatalf("shards after delete %v", shards)
	}
}

// TestCorruptionDetected: a damaged value is never returned.
func TestCorruptionDetected(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	x := testBlob(t, 10, 5000, 2)
	id := x.Metadata.ID
	p := x.Pair(0)
	if err := s.PutMetadata(&x.Metadata); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSliver(1, id, &p.Primary); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{SliverKey(1, blob.Primary, id), MetadataKey(id)} {
		v, closer, err := s.db.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(v)
		closer.Close()
		bad[len(bad)/2] ^= 0x10
		if err := s.db.Set(k, bad, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Sliver(1, blob.Primary, id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupted sliver read: %v", err)
	}
	if ok, err := s.HasSliver(1, blob.Primary, id); ok || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("HasSliver on corrupted sliver: %v %v", ok, err)
	}
	if _, err := s.Metadata(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupted metadata read: %v", err)
	}
	r, err := s.Check()
	if err != nil || len(r.Corrupt) != 2 {
		t.Fatalf("check: %+v %v", r, err)
	}
	// A value moved to another key fails too: the key is in the checksum.
	good := seal(SliverKey(2, blob.Primary, id), p.Primary.MarshalBCS())
	if err := s.db.Set(SliverKey(3, blob.Primary, id), good, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sliver(3, blob.Primary, id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("misplaced value read: %v", err)
	}
}

// TestSyncedWritesSurviveCrash: metadata and slivers are durable once Sync
// returns; a batch committed without sync may be lost, but never in part.
func TestSyncedWritesSurviveCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openMem(t, fs)
	x := testBlob(t, 10, 3000, 3)
	id := x.Metadata.ID
	if err := s.PutMetadata(&x.Metadata); err != nil {
		t.Fatal(err)
	}
	for p := range 10 {
		pair := x.Pair(p)
		if err := s.PutSlivers(id, []ShardSliver{{uint16(p), &pair.Primary}, {uint16(p), &pair.Secondary}}); err != nil {
			t.Fatal(err)
		}
	}
	// The confirmation point: everything written so far becomes durable.
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// An unsynced batch: blob info and cursor together.
	b := s.NewBatch()
	info := BlobInfo{}
	info.Put(Registration{ObjectID: [32]byte{1}, EndEpoch: 5})
	b.SetBlobInfo(id, &info)
	b.SetCursor(chain.Cursor{Height: 7})
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rand.New(rand.NewPCG(1, 2))})
	s.Close()
	s2 := openMem(t, crashed)
	defer s2.Close()
	if _, err := s2.Metadata(id); err != nil {
		t.Fatalf("metadata lost: %v", err)
	}
	for p := range 10 {
		for _, typ := range []blob.SliverType{blob.Primary, blob.Secondary} {
			if ok, err := s2.HasSliver(uint16(p), typ, id); !ok || err != nil {
				t.Fatalf("sliver %d %s lost: %v", p, typ, err)
			}
		}
	}
	c, err := s2.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	_, infoErr := s2.BlobInfo(id)
	if (c.Height == 7) != (infoErr == nil) {
		t.Fatalf("batch applied in part: cursor %v, blob info %v", c, infoErr)
	}
	r, err := s2.Check()
	if err != nil || len(r.Corrupt) != 0 {
		t.Fatalf("check after crash: %+v %v", r, err)
	}
}

// TestWriteFailureIsFatal: Pebble treats a failed WAL write as fatal (the
// state of the log is unknown), and so does the store: the write and its
// Sync do not both succeed, so nothing is confirmed, and after the crash the
// store reopens consistent.
func TestWriteFailureIsFatal(t *testing.T) {
	mem := vfs.NewCrashableMem()
	toggle := &errorfs.Toggle{Injector: errorfs.ErrInjected.If(errorfs.Writes)}
	s, err := Open(Config{Dir: "db", FS: errorfs.Wrap(mem, toggle)})
	if err != nil {
		t.Fatal(err)
	}
	x := testBlob(t, 10, 100, 4)
	toggle.On()
	acknowledged := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		// A write is acknowledged (a confirmation signed) only once Sync succeeds.
		return s.PutMetadata(&x.Metadata) == nil && s.Sync() == nil
	}()
	if acknowledged {
		t.Fatal("put acknowledged on a failing disk")
	}
	s2 := openMem(t, mem.CrashClone(vfs.CrashCloneCfg{}))
	defer s2.Close()
	if r, err := s2.Check(); err != nil || len(r.Corrupt) != 0 {
		t.Fatalf("check after the failure: %+v %v", r, err)
	}
}

func TestFormatVersion(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem)
	k := []byte{tVersion, 'v'}
	if err := s.db.Set(k, seal(k, []byte{9, 0, 0, 0}), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(Config{Dir: "db", FS: mem}); !errors.Is(err, ErrFormat) {
		t.Fatalf("open of a future format: %v", err)
	}
}

func TestBlobInfoLogic(t *testing.T) {
	var b BlobInfo
	one := uint32(1)
	b.Put(Registration{ObjectID: [32]byte{2}, EndEpoch: 5})
	b.Put(Registration{ObjectID: [32]byte{1}, Deletable: true, EndEpoch: 3, CertifiedEpoch: &one})
	if b.Registrations[0].ObjectID[0] != 1 {
		t.Fatal("registrations not sorted")
	}
	if !b.Live(4) || b.Live(5) || !b.CertifiedLive(2) || b.CertifiedLive(3) || b.MaxEndEpoch() != 5 {
		t.Fatal("liveness")
	}
	enc := b.AppendBCS(nil)
	got, err := UnmarshalBlobInfo(enc)
	if err != nil || len(got.Registrations) != 2 || *got.Registrations[0].CertifiedEpoch != 1 {
		t.Fatalf("round trip %+v %v", got, err)
	}
	b.Expire(3)
	if len(b.Registrations) != 1 || !b.Remove([32]byte{2}) || !b.Empty() {
		t.Fatal("expire/remove")
	}
	b.Invalid = &Invalidation{Epoch: 2}
	if b.Empty() {
		t.Fatal("invalid record is not empty")
	}
}

func TestQueueExpiryAndMeta(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	ids := []blob.ID{{3}, {1}, {2}}
	b := s.NewBatch()
	for i, id := range ids {
		b.EnqueueSync(id, uint32(i))
		b.AddExpiry(uint32(10+i), id)
	}
	b.SetCursor(chain.Cursor{Height: 3, TxIndex: 1, EventIndex: 2})
	b.SetMeta("x", []byte("y"))
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	q, _ := s.SyncQueue(nil, 10)
	if len(q) != 3 || q[0] != (blob.ID{1}) || q[2] != (blob.ID{3}) {
		t.Fatalf("queue %v", q)
	}
	q, _ = s.SyncQueue(&q[0], 1)
	if len(q) != 1 || q[0] != (blob.ID{2}) {
		t.Fatalf("queue page %v", q)
	}
	if n, _ := s.SyncQueueLen(); n != 3 {
		t.Fatalf("queue len %d", n)
	}
	if r, _ := s.SyncRequired(2); !r {
		t.Fatal("an entry marked for epoch 2 is not seen")
	}
	if r, _ := s.SyncRequired(3); r {
		t.Fatal("no entry is marked for epoch 3")
	}
	exp, _ := s.Expiring(11)
	if len(exp) != 2 || exp[0].ID != (blob.ID{3}) || exp[1].Epoch != 11 {
		t.Fatalf("expiring %v", exp)
	}
	c, _ := s.Cursor()
	if c != (chain.Cursor{Height: 3, TxIndex: 1, EventIndex: 2}) {
		t.Fatalf("cursor %v", c)
	}
	if v, _ := s.Meta("x"); string(v) != "y" {
		t.Fatal("meta")
	}
	if err := s.SetMeta("x", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Meta("x"); !errors.Is(err, ErrNotFound) {
		t.Fatal("meta not deleted")
	}
}

func FuzzUnmarshalBlobInfo(f *testing.F) {
	one := uint32(1)
	b := BlobInfo{Invalid: &Invalidation{Epoch: 3}}
	b.Put(Registration{ObjectID: [32]byte{1}, Deletable: true, EndEpoch: 3, CertifiedEpoch: &one})
	f.Add(b.AppendBCS(nil))
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := UnmarshalBlobInfo(data)
		if err != nil {
			return
		}
		if !bytes.Equal(info.AppendBCS(nil), data) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// FuzzSliverValue: the v2 sliver value decoder never panics, accepts
// exactly the two tagged forms, and a file reference round-trips.
func FuzzSliverValue(f *testing.F) {
	f.Add([]byte{tagInline, 1, 2, 3})
	f.Add(fileValue(800_000, 0xdeadbeef))
	f.Add([]byte{tagFile, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		v, err := decodeSliverValue([]byte("k"), p)
		switch {
		case err != nil:
			if len(p) > 0 && p[0] == tagInline || len(p) == 9 && p[0] == tagFile {
				t.Fatalf("%x refused: %v", p, err)
			}
		case v.file:
			if !bytes.Equal(fileValue(v.length, v.crc)[:9], p) {
				t.Fatalf("%x decoded to %+v", p, v)
			}
		default:
			if !bytes.Equal(v.inline, p[1:]) {
				t.Fatalf("inline %x", p)
			}
		}
	})
}
