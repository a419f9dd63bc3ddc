package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/blob"
)

// v1Sliver is a sliver of a version-1 database.
type v1Sliver struct {
	shard uint16
	typ   blob.SliverType
	id    blob.ID
	bcs   []byte
}

// writeV1 creates a version-1 database with raw Pebble calls: the version
// key, metadata, and sliver values sealed without a tag. It returns the
// slivers it wrote.
func writeV1(t *testing.T, fsys vfs.FS, n, size int, corrupt bool) []v1Sliver {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: fsys, Logger: pebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set := func(k, payload []byte) {
		if err := db.Set(k, seal(k, payload), pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	set([]byte{tVersion, 'v'}, binary.LittleEndian.AppendUint32(nil, 1))
	x := testBlob(t, 10, 1000, 8)
	set(MetadataKey(x.Metadata.ID), x.Metadata.MarshalBCS())
	r := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	var out []v1Sliver
	for i := range n {
		sl := randSliver(r, blob.SliverType(i%2), size)
		v := v1Sliver{uint16(r.IntN(5)), sl.Type, randID(r), sl.MarshalBCS()}
		set(SliverKey(v.shard, v.typ, v.id), v.bcs)
		set(shardKey(v.shard), nil)
		out = append(out, v)
	}
	if corrupt {
		k := SliverKey(9, blob.Primary, blob.ID{9})
		bad := seal(k, []byte("sliver"))
		bad[0] ^= 1
		if err := db.Set(k, bad, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrateFromV1(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, size int
		corrupt bool
		batches int
	}{
		{"empty", 0, 0, false, 1},
		{"small slivers", 50, 300, false, 1},
		{"several batches", 10, 1 << 20, false, 3}, // 4 MiB each
		{"a corrupt value", 10, 300, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			v1 := writeV1(t, mem, tc.n, tc.size, tc.corrupt)
			var logs bytes.Buffer
			s := openCfg(t, Config{FS: mem, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			for _, v := range v1 {
				got, err := s.SliverBytes(v.shard, v.typ, v.id)
				if err != nil || !bytes.Equal(got, v.bcs) {
					t.Fatalf("sliver of %s at shard %d after the migration: %v", v.id, v.shard, err)
				}
			}
			if !strings.Contains(logs.String(), fmt.Sprintf("slivers=%d corrupt_left=%d batches=%d", tc.n, btoi(tc.corrupt), tc.batches)) {
				t.Fatalf("migration log: %q", logs.String())
			}
			rep, err := s.Check()
			wantCorrupt := btoi(tc.corrupt)
			if err != nil || rep.Slivers != tc.n || len(rep.Corrupt) != wantCorrupt || rep.Metadata != 1 {
				t.Fatalf("check: %+v %v", rep, err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// Version 2 is recorded: a second Open migrates nothing.
			logs.Reset()
			s = openCfg(t, Config{FS: mem, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			defer s.Close()
			if strings.Contains(logs.String(), "migrated") {
				t.Fatalf("migrated twice: %q", logs.String())
			}
			if v, err := s.get([]byte(keyVersion)); err != nil || binary.LittleEndian.Uint32(v) != 2 {
				t.Fatalf("version %x %v", v, err)
			}
			for _, v := range v1 {
				if got, err := s.SliverBytes(v.shard, v.typ, v.id); err != nil || !bytes.Equal(got, v.bcs) {
					t.Fatalf("sliver after reopening: %v", err)
				}
			}
		})
	}
}

// TestMigrationResumes: a migration cut short (some batches committed with
// their progress mark, the version not yet recorded) resumes without
// tagging a value twice.
func TestMigrationResumes(t *testing.T) {
	mem := vfs.NewMem()
	v1 := writeV1(t, mem, 30, 200, false)
	db, err := pebble.Open("db", &pebble.Options{FS: mem, Logger: pebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	// Migrate the first half by hand, as a committed batch would have.
	it, _ := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tSliver}, UpperBound: []byte{tSliver + 1}})
	b := db.NewBatch()
	i := 0
	for ok := it.First(); ok && i < 15; ok = it.Next() {
		k := bytes.Clone(it.Key())
		p, err := open(k, it.Value())
		if err != nil {
			t.Fatal(err)
		}
		b.Set(k, seal(k, append([]byte{tagInline}, p...)), nil)
		b.Set([]byte(keyMigrate), seal([]byte(keyMigrate), k), nil)
		i++
	}
	it.Close()
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openCfg(t, Config{FS: mem})
	defer s.Close()
	for _, v := range v1 {
		if got, err := s.SliverBytes(v.shard, v.typ, v.id); err != nil || !bytes.Equal(got, v.bcs) {
			t.Fatalf("sliver after the resumed migration: %v", err)
		}
	}
	if _, err := s.get([]byte(keyMigrate)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("progress mark left: %v", err)
	}
}

func TestFormatRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		marker []byte // sealed unless raw
		raw    bool
		want   string
	}{
		{"version 3", []byte{3, 0, 0, 0}, false, "found format version 3; this build reads versions 1 and 2"},
		{"version 0", []byte{0, 0, 0, 0}, false, "found format version 0"},
		{"not a u32", []byte{2, 0, 0}, false, "is not a version"},
		{"damaged", []byte{2, 0, 0, 0, 1, 2, 3, 4}, true, "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			db, err := pebble.Open("db", &pebble.Options{FS: mem, Logger: pebbleLogger{}})
			if err != nil {
				t.Fatal(err)
			}
			k := []byte(keyVersion)
			v := tc.marker
			if !tc.raw {
				v = seal(k, v)
			}
			if err := db.Set(k, v, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = Open(Config{Dir: "db", FS: mem})
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("open: %v", err)
			}
		})
	}
}

// TestPebbleIgnoresSliverDir: the slivers directory inside Pebble's
// directory survives Pebble's opening, flushing, compacting and closing.
func TestPebbleIgnoresSliverDir(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 3))
	id := randID(r)
	sl := randSliver(r, blob.Secondary, 10000)
	want := sl.MarshalBCS()
	s := openCfg(t, Config{Dir: dir, FileThreshold: 1000})
	if err := s.PutSliver(12, id, sl); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Compact(t.Context(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s = openCfg(t, Config{Dir: dir, FileThreshold: 1000})
		got, err := s.SliverBytes(12, blob.Secondary, id)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("after reopening: %v", err)
		}
		rep, err := s.Check()
		if err != nil || rep.SliverFiles != 1 || rep.OrphanFiles != 0 || len(rep.Corrupt) != 0 {
			t.Fatalf("check: %+v %v", rep, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
