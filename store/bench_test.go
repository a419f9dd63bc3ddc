package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// sliverWriter is what the benchmark writes slivers with.
type sliverWriter interface {
	PutSlivers(id blob.ID, slivers []ShardSliver) error
	Sync() error
	Close() error
}

// valueSepDB keeps every sliver inline in a Pebble that separates large
// values into blob files: the alternative to sliver files.
type valueSepDB struct{ db *pebble.DB }

func openValueSep(dir string) (*valueSepDB, error) {
	cache := pebble.NewCache(64 << 20)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache:              cache,
		FormatMajorVersion: pebble.FormatValueSeparation,
		Logger:             pebbleLogger{},
	}
	opts.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           4096,
			MaxBlobReferenceDepth: 10,
			RewriteMinimumAge:     5 * time.Minute,
			TargetGarbageRatio:    0.2,
		}
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return &valueSepDB{db}, nil
}

func (v *valueSepDB) PutSlivers(id blob.ID, slivers []ShardSliver) error {
	b := v.db.NewBatch()
	defer b.Close()
	for _, x := range slivers {
		k := SliverKey(x.Shard, x.Sliver.Type, id)
		enc := x.Sliver.AppendBCS(append(make([]byte, 0, len(x.Sliver.Data)+16), tagInline))
		if err := b.Set(k, seal(k, enc), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

func (v *valueSepDB) Sync() error  { return v.db.LogData(nil, pebble.Sync) }
func (v *valueSepDB) Close() error { return v.db.Close() }

// writtenBytes is write_bytes of /proc/self/io: the bytes this process
// caused to be written to storage.
func writtenBytes() (int64, bool) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("write_bytes: ")); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// BenchmarkPutSlivers writes 64 MiB of slivers per op, in pairs of one
// shard, from 8 goroutines, then syncs once, on the real disk (in a
// temporary directory). written/B is the bytes written to storage per
// sliver byte, compactions in flight at the end not included.
func BenchmarkPutSlivers(b *testing.B) {
	for _, layout := range []string{"inline", "files", "valuesep"} {
		for _, size := range []int{4 << 10, 64 << 10, 800 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", layout, size>>10), func(b *testing.B) {
				benchPutSlivers(b, layout, size)
			})
		}
	}
}

func benchPutSlivers(b *testing.B, layout string, size int) {
	const perOp, writers = 64 << 20, 8
	dir := b.TempDir()
	var w sliverWriter
	var err error
	switch layout {
	case "inline":
		w, err = Open(Config{Dir: dir, FileThreshold: -1})
	case "files":
		w, err = Open(Config{Dir: dir})
	case "valuesep":
		w, err = openValueSep(dir)
	}
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()

	// Slivers share one random buffer; MarshalBCS copies it anyway.
	r := rand.New(rand.NewPCG(1, 2))
	pool := make([]byte, size+4096)
	for i := 0; i+8 <= len(pool); i += 8 {
		binary.LittleEndian.PutUint64(pool[i:], r.Uint64())
	}
	pairs := perOp / (2 * size)
	sliverBytes := int64(len((&redstuff.Sliver{Data: pool[:size]}).MarshalBCS()))
	b.SetBytes(int64(pairs) * 2 * sliverBytes)

	var seq atomic.Uint64 // blob IDs never repeat across ops
	var syncTime time.Duration
	before, haveIO := writtenBytes()
	b.ResetTimer()
	for range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(pairs) {
						return
					}
					n := seq.Add(1)
					var id blob.ID
					binary.BigEndian.PutUint64(id[:], n)
					off := int(n % 4096)
					p := &redstuff.Sliver{Type: blob.Primary, SymbolSize: 1, Data: pool[off : off+size]}
					s := &redstuff.Sliver{Type: blob.Secondary, SymbolSize: 1, Data: pool[4096-off : 4096-off+size]}
					if err := w.PutSlivers(id, []ShardSliver{{uint16(n % 16), p}, {uint16(n % 16), s}}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := w.Sync(); err != nil {
			b.Fatal(err)
		}
		syncTime += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(syncTime.Seconds()*1000/float64(b.N), "sync-ms/op")
	if after, ok := writtenBytes(); ok && haveIO {
		b.ReportMetric(float64(after-before)/float64(int64(b.N)*int64(pairs)*2*sliverBytes), "written/B")
	}
}
