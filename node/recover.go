package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/blocklist"
	"github.com/walrus-go/walrus/chain"
	"github.com/walrus-go/walrus/chain/chainclient"
	"github.com/walrus-go/walrus/nodeapi"
	"github.com/walrus-go/walrus/redstuff"
	"github.com/walrus-go/walrus/store"
)

// Recovery of one blob's missing slivers (spec 1.7). Secondary slivers
// first (k_p symbols each, from primary slivers), then primary slivers
// (k_s symbols each, from secondary slivers, including the ones just
// recovered). Symbols come in bulk without proofs (decodingSymbols): one
// request per peer covers all the blob's missing slivers of an axis, and
// the peer expands each of its source slivers once for all of them; only as
// many peers are asked as their shards are needed. Each rebuilt sliver is
// checked against the metadata; a sliver that fails is rebuilt again from
// Merkle-proven recovery symbols, which either yields the right sliver (a
// peer lied) or proves the blob inconsistent.

// recoveryBudget bounds the symbols held at once for one blob's targets.
const recoveryBudget = 256 << 20

// localBlobs is the node's own data as recovery reads and writes it:
// damaged values read as missing (and are repaired), never returned.
// *backend implements it.
type localBlobs interface {
	Metadata(id blob.ID) (*blob.MetadataWithID, bool, error)
	PutMetadata(md *blob.MetadataWithID) error
	Sliver(shard uint16, t blob.SliverType, id blob.ID) (*redstuff.Sliver, bool, error)
	HasSliver(shard uint16, t blob.SliverType, id blob.ID) (bool, error)
}

// recoverer recovers the missing slivers of one queued blob at a time (the
// syncer runs several): it checks that the blob still needs them, gets its
// metadata, rebuilds the slivers from peers' symbols and stores them.
type recoverer struct {
	log         *slog.Logger
	params      blob.Params
	enc         *redstuff.Encoder
	maxResponse int64 // the size aimed for in one decodingSymbols answer
	store       *store.Store
	chain       *chainclient.Client
	view        *view
	blocklist   *blocklist.List
	locks       *blobLocks
	local       localBlobs
	peers       *peerPool
	invalid     *invalidator
	metrics     *metrics
}

func newRecoverer(p *parts, local localBlobs, inv *invalidator, maxResponse int64) *recoverer {
	return &recoverer{log: p.log, params: p.params, enc: p.enc, maxResponse: maxResponse, store: p.store, chain: p.chain,
		view: p.view, blocklist: p.blocklist, locks: p.locks, local: local, peers: p.peers, invalid: inv, metrics: p.metrics}
}

// want is a sliver the node should hold: its shard and type.
type want struct {
	shard uint16
	t     blob.SliverType
}

// missing lists the slivers of the given shards the node lacks for a blob.
func (rc *recoverer) missing(id blob.ID, shards []uint16) ([]want, error) {
	var out []want
	for _, s := range shards {
		for _, t := range []blob.SliverType{blob.Primary, blob.Secondary} {
			ok, err := rc.local.HasSliver(s, t, id)
			if err != nil {
				return nil, err
			}
			if !ok {
				out = append(out, want{s, t})
			}
		}
	}
	return out, nil
}

// syncBlob recovers the slivers the node lacks for one queued blob.
func (rc *recoverer) syncBlob(ctx context.Context, id blob.ID) error {
	info, err := loadBlobInfo(rc.store, id)
	if err != nil {
		return err
	}
	epoch := rc.view.Epoch()
	if info.Invalid != nil || !info.CertifiedLive(epoch) || rc.blocklist.Blocked(id) {
		return rc.dequeue(id)
	}
	// The chain has the last word: a node catching up may not have seen
	// the blob's deletion or invalidation yet.
	st, err := rc.chain.BlobStatus(ctx, id)
	if err != nil {
		return err
	}
	if !certifiedOnChain(st, epoch) {
		return rc.dequeue(id)
	}
	miss, err := rc.missing(id, rc.view.OwnedShards())
	if err != nil {
		return err
	}
	if len(miss) > 0 {
		md, err := rc.syncMetadata(ctx, id)
		if err != nil {
			return err
		}
		r := &recovery{rc: rc, id: id, md: md}
		if err := r.recoverMissing(ctx, miss); err != nil {
			return err
		}
	}
	return rc.finishSync(id)
}

// certifiedOnChain reports whether the chain holds a live certified Blob
// object with this ID and has not declared it invalid.
func certifiedOnChain(st *chain.BlobStatus, epoch uint32) bool {
	if st.Invalid {
		return false
	}
	for _, o := range st.Objects {
		b := o.Blob
		if o.SharedBlob != nil {
			b = &o.SharedBlob.Blob
		}
		if b != nil && b.Certified() && epoch < b.EndEpoch() {
			return true
		}
	}
	return false
}

// dequeue takes a blob out of the recovery queue.
func (rc *recoverer) dequeue(id blob.ID) error {
	b := rc.store.NewBatch()
	b.DequeueSync(id)
	return b.Commit(false)
}

// finishSync dequeues a blob if every owned shard now holds its slivers.
func (rc *recoverer) finishSync(id blob.ID) error {
	mu := rc.locks.of(id)
	mu.Lock()
	defer mu.Unlock()
	miss, err := rc.missing(id, rc.view.OwnedShards())
	if err != nil {
		return err
	}
	if len(miss) > 0 {
		return fmt.Errorf("node: %d slivers still missing after recovery", len(miss))
	}
	if queued, err := rc.store.SyncQueued(id); err != nil || !queued {
		return err
	}
	if err := rc.dequeue(id); err != nil {
		return err
	}
	rc.metrics.blobsSynced.Inc()
	rc.metrics.synced.Add(1)
	return nil
}

// syncMetadata returns the blob's metadata, fetching it from peers in
// random order (and verifying it against the blob ID) if the node lacks it.
func (rc *recoverer) syncMetadata(ctx context.Context, id blob.ID) (*blob.MetadataWithID, error) {
	md, ok, err := rc.local.Metadata(id)
	if err != nil || ok {
		return md, err
	}
	peers := rc.view.peers()
	asks := make([]nodeapi.Peer, len(peers))
	for i, p := range peers {
		asks[i] = nodeapi.Peer{Address: p.address, Weight: p.shards}
	}
	// A peer that does not have the blob (or blocks it) is just one that
	// failed: the misses only matter to a reader telling "not stored"
	// from "unreachable".
	md, _, err = rc.peers.Metadata(ctx, id, asks)
	if err != nil {
		return nil, err
	}
	if err := rc.local.PutMetadata(md); err != nil {
		return nil, err
	}
	return md, nil
}

func shuffled[T any](s []T) []T {
	s = slices.Clone(s)
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// recovery rebuilds slivers of one blob.
type recovery struct {
	rc *recoverer
	id blob.ID
	md *blob.MetadataWithID
}

// recoverMissing rebuilds the missing slivers: secondary ones first, so
// that they count as sources of the primary ones.
func (r *recovery) recoverMissing(ctx context.Context, miss []want) error {
	for _, t := range []blob.SliverType{blob.Secondary, blob.Primary} {
		var targets []int
		for _, w := range miss {
			if w.t == t {
				targets = append(targets, r.sliverIndex(t, w.shard))
			}
		}
		if len(targets) == 0 {
			continue
		}
		if err := r.recoverAxis(ctx, t, targets); err != nil {
			return err
		}
	}
	return nil
}

// sliverIndex is the index of the sliver of type t held by a shard.
func (r *recovery) sliverIndex(t blob.SliverType, shard uint16) int {
	p := r.rc.params
	pair := p.PairOfShard(r.id, int(shard))
	if t == blob.Secondary {
		return p.SecondaryIndex(pair)
	}
	return pair
}

// shardOf is the shard holding sliver (t, index) of the blob.
func (r *recovery) shardOf(t blob.SliverType, index int) uint16 {
	p := r.rc.params
	pair := index
	if t == blob.Secondary {
		pair = p.PairOfSecondary(index)
	}
	return uint16(p.ShardOfPair(r.id, pair))
}

// need is the number of symbols that rebuild a sliver of type t.
func (r *recovery) need(t blob.SliverType) int {
	if t == blob.Primary {
		return r.rc.params.SecondarySymbols()
	}
	return r.rc.params.PrimarySymbols()
}

// localSources calls fn with each of the node's own slivers of the axis
// orthogonal to t, one at a time (a large blob's slivers do not all fit in
// memory), and returns how many there were.
func (r *recovery) localSources(t blob.SliverType, fn func(*redstuff.Sliver) error) (int, error) {
	count := 0
	for _, s := range r.rc.view.ServingShards() {
		sl, ok, err := r.rc.local.Sliver(s, t.Orthogonal(), r.id)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if err := fn(sl); err != nil {
			return 0, err
		}
		count++
	}
	return count, nil
}

// recoverAxis rebuilds the slivers of type t with the given indices, in
// batches that fit the memory budget, and stores them.
func (r *recovery) recoverAxis(ctx context.Context, t blob.SliverType, targets []int) error {
	s, err := r.rc.params.SymbolSize(r.md.UnencodedLength)
	if err != nil {
		return err
	}
	batch := max(1, recoveryBudget/(r.need(t)*(s+16)))
	for len(targets) > 0 {
		k := min(batch, len(targets))
		if err := r.recoverBatch(ctx, t, targets[:k], s); err != nil {
			return err
		}
		targets = targets[k:]
	}
	return nil
}

// recoverBatch rebuilds and stores the slivers of type t with the given
// indices from decoding symbols: the node's own first, then peers' as
// needed. A sliver that does not match the metadata is rebuilt from proven
// symbols instead.
func (r *recovery) recoverBatch(ctx context.Context, t blob.SliverType, targets []int, symbolSize int) error {
	enc := r.rc.enc
	need := r.need(t)
	syms := make(map[int][]redstuff.DecodingSymbol, len(targets))
	local, err := r.localSources(t, func(src *redstuff.Sliver) error {
		ds, err := enc.DecodingSymbols(src, targets)
		if err != nil {
			return err
		}
		for i, tg := range targets {
			syms[tg] = append(syms[tg], ds[i])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if local < need {
		if err := r.fetchDecodingSymbols(ctx, t, targets, symbolSize, need, syms); err != nil {
			return err
		}
	}
	var out []store.ShardSliver
	var method []string
	for _, tg := range targets {
		sl, err := enc.RecoverFromDecodingSymbols(t, tg, &r.md.Metadata, syms[tg])
		how := "decoding"
		if errors.Is(err, redstuff.ErrSliverHash) {
			r.rc.log.Info("decoded sliver does not match the metadata; recovering it from proven symbols",
				"blob_id", r.id, "type", t, "index", tg)
			sl, err = r.recoverWithProofs(ctx, t, tg)
			how = "proofs"
		}
		if err != nil {
			return err
		}
		out = append(out, store.ShardSliver{Shard: r.shardOf(t, tg), Sliver: &sl})
		method = append(method, how)
	}
	return r.store(out, method)
}

// store writes recovered slivers if the blob is still certified and live.
func (r *recovery) store(slivers []store.ShardSliver, method []string) error {
	rc := r.rc
	mu := rc.locks.of(r.id)
	mu.Lock()
	defer mu.Unlock()
	info, err := loadBlobInfo(rc.store, r.id)
	if err != nil {
		return err
	}
	if info.Invalid != nil || !info.CertifiedLive(rc.view.Epoch()) {
		return nil
	}
	if err := rc.store.PutSlivers(r.id, slivers); err != nil {
		return err
	}
	for _, m := range method {
		rc.metrics.recoveredBy.WithLabelValues(m).Inc()
	}
	rc.metrics.slivers.WithLabelValues("recovery").Add(float64(len(slivers)))
	rc.metrics.recovered.Add(int64(len(slivers)))
	return nil
}

// fetchDecodingSymbols asks peers, in waves, for decoding symbols towards
// the targets until each target has need distinct symbols (or every peer
// was asked). A wave asks just enough peers, by their shard counts, to
// cover what is missing, so the node downloads about one sliver's worth of
// symbols per target, not the blob.
func (r *recovery) fetchDecodingSymbols(ctx context.Context, t blob.SliverType, targets []int, symbolSize, need int, syms map[int][]redstuff.DecodingSymbol) error {
	distinct := func() int { // the sources seen for the first target (every target has the same sources)
		seen := map[uint16]bool{}
		for _, s := range syms[targets[0]] {
			seen[s.Index] = true
		}
		return len(seen)
	}
	peers := shuffled(r.rc.view.peers())
	var errs []error
	for have := distinct(); have < need && len(peers) > 0; have = distinct() {
		var wave []peer
		for expect := have; len(peers) > 0 && expect < need; {
			wave = append(wave, peers[0])
			expect += peers[0].shards
			peers = peers[1:]
		}
		errs = append(errs, r.askWave(ctx, wave, t, targets, symbolSize, syms)...)
	}
	if have := distinct(); have < need {
		return fmt.Errorf("node: %d of %d symbols for %s slivers of %s: %w", have, need, t, r.id, errors.Join(errs...))
	}
	return nil
}

// askWave asks the peers of a wave at once for the targets' symbols and
// adds their answers to syms. It returns the peers' errors.
func (r *recovery) askWave(ctx context.Context, wave []peer, t blob.SliverType, targets []int, symbolSize int, syms map[int][]redstuff.DecodingSymbol) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, p := range wave {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := r.askDecodingSymbols(ctx, p, t, targets, symbolSize)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.address, err))
				return
			}
			for _, tg := range targets {
				for _, e := range m[uint16(tg)] {
					if e.Target == t {
						syms[tg] = append(syms[tg], e.DecodingSymbol)
					}
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

// askDecodingSymbols asks one peer for the targets' symbols, in requests
// whose answers stay under the configured size.
func (r *recovery) askDecodingSymbols(ctx context.Context, p peer, t blob.SliverType, targets []int, symbolSize int) (map[uint16][]redstuff.EitherDecodingSymbol, error) {
	c, err := r.rc.peers.Get(p.address)
	if err != nil {
		return nil, err
	}
	per := int64(max(p.shards, 1)) * int64(symbolSize+8)
	chunk := int(max(1, r.rc.maxResponse/per))
	out := map[uint16][]redstuff.EitherDecodingSymbol{}
	for len(targets) > 0 {
		k := min(chunk, len(targets))
		m, err := c.DecodingSymbols(ctx, r.id, t, targets[:k])
		var apiErr *nodeapi.Error
		if errors.As(err, &apiErr) && apiErr.Reason == nodeapi.ReasonInvalidFilter && k > 1 {
			chunk = max(1, k/2) // the peer's answers are smaller than estimated
			continue
		}
		if err != nil {
			return nil, err
		}
		for tg, s := range m {
			out[tg] = append(out[tg], s...)
		}
		targets = targets[k:]
	}
	return out, nil
}

// recoverWithProofs rebuilds sliver (t, index) from Merkle-proven recovery
// symbols. A result that contradicts the metadata is the proof that the
// blob is inconsistent: the node gets it attested and invalidates the blob.
func (r *recovery) recoverWithProofs(ctx context.Context, t blob.SliverType, index int) (redstuff.Sliver, error) {
	rc := r.rc
	syms, errs, err := r.provenSymbols(ctx, t, index)
	if err != nil {
		return redstuff.Sliver{}, err
	}
	sl, err := rc.enc.RecoverFromRecoverySymbols(t, index, r.md, syms)
	var inc *redstuff.InconsistencyError
	if errors.As(err, &inc) {
		rc.metrics.inconsistent.Inc()
		rc.log.Warn("blob is inconsistently encoded; asking the committee to attest it", "blob_id", r.id, "type", t, "index", index)
		if err := rc.invalid.reportInconsistent(ctx, r.id, &inc.Proof); err != nil {
			return redstuff.Sliver{}, fmt.Errorf("node: reporting inconsistent blob %s: %w", r.id, err)
		}
		return redstuff.Sliver{}, errBlobInvalid
	}
	if err != nil {
		return redstuff.Sliver{}, fmt.Errorf("%w (%v)", err, errors.Join(errs...))
	}
	return sl, nil
}

// provenSymbols gathers Merkle-proven recovery symbols towards sliver
// (t, index): the node's own, then peers' in random order until there are
// enough even if f of them fail their proofs. It returns the peers' errors
// beside the symbols; the error is the node's own failing.
func (r *recovery) provenSymbols(ctx context.Context, t blob.SliverType, index int) ([]redstuff.RecoverySymbol, []error, error) {
	rc := r.rc
	var syms []redstuff.RecoverySymbol
	if _, err := r.localSources(t, func(src *redstuff.Sliver) error {
		g, err := rc.enc.RecoverySymbols(src, []int{index})
		if err != nil {
			return err
		}
		syms = append(syms, g[0].RecoverySymbol)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, p := range shuffled(rc.view.peers()) {
		if len(syms) >= r.need(t)+rc.params.F() {
			break
		}
		c, err := rc.peers.Get(p.address)
		if err != nil {
			continue
		}
		g, err := c.RecoverySymbolsFor(ctx, r.id, t, index)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.address, err))
			continue
		}
		for _, s := range g {
			if s.Target == t && int(s.TargetIndex) == index {
				syms = append(syms, s.RecoverySymbol)
			}
		}
	}
	return syms, errs, nil
}
