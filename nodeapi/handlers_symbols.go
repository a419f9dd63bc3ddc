package nodeapi

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/blob"
	"github.com/walrus-go/walrus/redstuff"
)

// SymbolID names a symbol of the expanded matrix: its primary (row) and
// secondary (column) index; text form "<primary>-<secondary>".
type SymbolID struct {
	Primary, Secondary uint16
}

func (id SymbolID) String() string { return fmt.Sprintf("%d-%d", id.Primary, id.Secondary) }

// ParseSymbolID parses "<primary>-<secondary>".
func ParseSymbolID(s string) (SymbolID, error) {
	a, b, ok := strings.Cut(s, "-")
	p, err1 := strconv.ParseUint(a, 10, 16)
	q, err2 := strconv.ParseUint(b, 10, 16)
	if !ok || err1 != nil || err2 != nil {
		return SymbolID{}, fmt.Errorf("nodeapi: symbol ID %q", s)
	}
	return SymbolID{uint16(p), uint16(q)}, nil
}

// source is a sliver the node holds that symbols are computed from.
type source struct {
	shard uint16
	t     blob.SliverType
	index int // the sliver index
}

// sources lists the slivers of type t the node may hold for a blob: one per
// serving shard (whether it is actually held is known only on load).
func (s *Server) sources(id blob.ID, t blob.SliverType) []source {
	p := s.deps.Params
	var out []source
	for _, sh := range s.deps.Chain.ServingShards() {
		pair := p.PairOfShard(id, int(sh))
		idx := pair
		if t == blob.Secondary {
			idx = p.SecondaryIndex(pair)
		}
		out = append(out, source{shard: sh, t: t, index: idx})
	}
	return out
}

// symbolSize returns the blob's symbol size from its stored metadata.
func (s *Server) symbolSize(id blob.ID) (int, error) {
	md, ok, err := s.deps.Store.Metadata(id)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, newError("NOT_FOUND", ReasonSliverNotFound, "the node holds no slivers of this blob", nil)
	}
	return s.deps.Params.SymbolSize(md.UnencodedLength)
}

func (s *Server) queryType(q url.Values, name string) (blob.SliverType, bool, error) {
	v := q.Get(name)
	if v == "" {
		return 0, false, nil
	}
	t, err := blob.ParseSliverType(v)
	if err != nil {
		return 0, false, newError("INVALID_ARGUMENT", ReasonInvalidFilter, fmt.Sprintf("the filter is invalid: %s %q", name, v), nil)
	}
	return t, true, nil
}

// symbolJob is one step of a symbols answer: the targets to compute from
// one source sliver.
type symbolJob struct {
	src     source
	targets []int
}

// symbolCount is the number of symbols the jobs compute.
func symbolCount(jobs []symbolJob) int {
	n := 0
	for _, j := range jobs {
		n += len(j.targets)
	}
	return n
}

// recoverySymbolBytes bounds the BCS size of one GeneralRecoverySymbol of
// a blob with symbol size sym, its proof included.
func recoverySymbolBytes(sym int) int64 { return int64(sym + 16 + 65*33) }

// getRecoverySymbols answers Vec<GeneralRecoverySymbol>: either the listed
// symbol IDs (id=<p>-<s>, repeatable; proofAxis picks the source axis when
// the node holds both), or every symbol the node can give towards one
// target sliver (targetSliver, targetType). It checks, in order: the blob
// ID, the filter, the blocklist, the metadata and the answer's size, then
// waits for a symbol slot.
func (s *Server) getRecoverySymbols(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	jobs, err := s.recoveryPlan(id, r.URL.Query())
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("sliver")
	}
	sym, err := s.symbolSize(id)
	if err != nil {
		return err
	}
	if size := int64(symbolCount(jobs)) * recoverySymbolBytes(sym); size > s.cfg.MaxSymbolResponse {
		return newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: the answer would be too large",
			map[string]any{"max_symbols": s.cfg.MaxSymbolResponse / recoverySymbolBytes(sym)})
	}
	release, err := s.acquireSymbols(r.Context())
	if err != nil {
		return err
	}
	defer release()
	out, err := s.recoverySymbols(id, jobs)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return newError("NOT_FOUND", ReasonSliverNotFound, "the node holds none of the slivers these symbols come from", nil)
	}
	writeBCS(w, redstuff.AppendRecoverySymbolsBCS(nil, out))
	return nil
}

// recoveryPlan reads the filter of a recoverySymbols request (proofAxis,
// then the symbol IDs or the target sliver) into the jobs that answer it.
func (s *Server) recoveryPlan(id blob.ID, q url.Values) ([]symbolJob, error) {
	axis, hasAxis, err := s.queryType(q, "proofAxis")
	if err != nil {
		return nil, err
	}
	if vals := q["id"]; len(vals) > 0 {
		return s.planSymbolIDs(id, vals, axis, hasAxis)
	}
	return s.planTargetSliver(id, q)
}

// planSymbolIDs plans the symbols listed by ID: each comes from the
// node's primary or secondary sliver that holds it (the proof axis, if
// given, decides); the jobs are ordered by source.
func (s *Server) planSymbolIDs(id blob.ID, vals []string, axis blob.SliverType, hasAxis bool) ([]symbolJob, error) {
	if len(vals) > s.cfg.MaxSymbolIDs {
		return nil, newError("INVALID_ARGUMENT", ReasonInvalidFilter, fmt.Sprintf("the filter is invalid: more than %d symbol IDs", s.cfg.MaxSymbolIDs), nil)
	}
	shardOf := map[source]uint16{} // the slivers the node may hold, by (axis, index)
	for _, src := range append(s.sources(id, blob.Primary), s.sources(id, blob.Secondary)...) {
		shardOf[source{t: src.t, index: src.index}] = src.shard
	}
	bySource := map[source][]int{}
	for _, v := range vals {
		src, target, err := s.symbolSource(v, shardOf, axis, hasAxis)
		if err != nil {
			return nil, err
		}
		bySource[src] = append(bySource[src], target)
	}
	var jobs []symbolJob
	for src, targets := range bySource {
		src.shard = shardOf[src]
		jobs = append(jobs, symbolJob{src, targets})
	}
	slices.SortFunc(jobs, func(a, b symbolJob) int {
		return cmp.Or(cmp.Compare(a.src.t, b.src.t), cmp.Compare(a.src.index, b.src.index))
	})
	return jobs, nil
}

// symbolSource parses one symbol ID and picks the sliver it is computed
// from (keyed by axis and index, without its shard) and its target there.
func (s *Server) symbolSource(v string, shardOf map[source]uint16, axis blob.SliverType, hasAxis bool) (source, int, error) {
	sid, err := ParseSymbolID(v)
	if err != nil {
		return source{}, 0, newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: "+err.Error(), nil)
	}
	if n := s.deps.Params.N(); int(sid.Primary) >= n || int(sid.Secondary) >= n {
		return source{}, 0, errIndexOutOfRange(int(max(sid.Primary, sid.Secondary)), n)
	}
	// From primary sliver p: the symbol at position s of its row
	// expansion, towards secondary sliver s; from secondary sliver s:
	// position p, towards primary sliver p.
	fromPrimary := source{t: blob.Primary, index: int(sid.Primary)}
	fromSecondary := source{t: blob.Secondary, index: int(sid.Secondary)}
	_, holdsPrimary := shardOf[fromPrimary]
	_, holdsSecondary := shardOf[fromSecondary]
	switch {
	case holdsPrimary && (!hasAxis || axis == blob.Primary):
		return fromPrimary, int(sid.Secondary), nil
	case holdsSecondary && (!hasAxis || axis == blob.Secondary):
		return fromSecondary, int(sid.Primary), nil
	}
	return source{}, 0, newError("FAILED_PRECONDITION", ReasonSymbolNotPresent,
		fmt.Sprintf("the requested recovery symbol %s is not the responsibility of this node's shards", sid), nil)
}

// planTargetSliver plans every symbol the node can give towards one
// target sliver (targetSliver and targetType, which go together): one
// from each of its slivers of the other axis.
func (s *Server) planTargetSliver(id blob.ID, q url.Values) ([]symbolJob, error) {
	tv := q.Get("targetSliver")
	tt, hasType, err := s.queryType(q, "targetType")
	if err != nil {
		return nil, err
	}
	if tv == "" && !hasType {
		return nil, newError("FAILED_PRECONDITION", ReasonNoSymbolsSpecified, "at least one symbol ID must be specified", nil)
	}
	if tv == "" || !hasType {
		return nil, newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: targetSliver and targetType go together", nil)
	}
	target, err := s.index("targetSliver", tv)
	if err != nil {
		return nil, err
	}
	var jobs []symbolJob
	for _, src := range s.sources(id, tt.Orthogonal()) {
		jobs = append(jobs, symbolJob{src, []int{target}})
	}
	return jobs, nil
}

// recoverySymbols computes the jobs' symbols from the source slivers the
// store holds, skipping those it does not.
func (s *Server) recoverySymbols(id blob.ID, jobs []symbolJob) ([]redstuff.GeneralRecoverySymbol, error) {
	var out []redstuff.GeneralRecoverySymbol
	for _, j := range jobs {
		sl, ok, err := s.deps.Store.Sliver(j.src.shard, j.src.t, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		syms, err := s.enc.RecoverySymbols(sl, j.targets)
		if err != nil {
			return nil, err
		}
		out = append(out, syms...)
	}
	return out, nil
}

// getDecodingSymbols answers BTreeMap<u16, Vec<EitherDecodingSymbol>>: for
// each target sliver (targetSlivers, repeatable; targetType), the symbols
// of its codeword that the node's slivers of the other axis give, without
// proofs. Each source sliver is expanded once for all targets. It checks,
// in order: the blob ID, the filter, the blocklist, the metadata and the
// answer's size, then waits for a symbol slot.
func (s *Server) getDecodingSymbols(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	tt, targets, err := s.decodingTargets(r.URL.Query())
	if err != nil {
		return err
	}
	if s.blocked(id) {
		return errForbidden("sliver")
	}
	sym, err := s.symbolSize(id)
	if err != nil {
		return err
	}
	srcs := s.sources(id, tt.Orthogonal())
	per := int64(len(srcs)) * int64(sym+8)
	if int64(len(targets))*per > s.cfg.MaxSymbolResponse {
		return newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: the answer would be too large",
			map[string]any{"max_targets": s.cfg.MaxSymbolResponse / max(per, 1)})
	}
	release, err := s.acquireSymbols(r.Context())
	if err != nil {
		return err
	}
	defer release()
	out, err := s.decodingSymbols(id, srcs, tt, targets)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return newError("NOT_FOUND", ReasonSliverNotFound, "the node holds no slivers these symbols come from", nil)
	}
	writeBCS(w, redstuff.AppendDecodingSymbolMapBCS(nil, out))
	return nil
}

// decodingTargets reads the filter of a decodingSymbols request: the
// target type and the target slivers, sorted and without duplicates.
func (s *Server) decodingTargets(q url.Values) (blob.SliverType, []int, error) {
	tt, hasType, err := s.queryType(q, "targetType")
	if err != nil {
		return 0, nil, err
	}
	vals := q["targetSlivers"]
	if len(vals) == 0 {
		return 0, nil, newError("FAILED_PRECONDITION", ReasonNoSymbolsSpecified, "at least one target sliver must be specified", nil)
	}
	if !hasType {
		return 0, nil, newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: targetType is required", nil)
	}
	if n := s.deps.Params.N(); len(vals) > n {
		return 0, nil, newError("INVALID_ARGUMENT", ReasonInvalidFilter, fmt.Sprintf("the filter is invalid: more than %d targets", n), nil)
	}
	var targets []int
	for _, v := range vals {
		i, err := s.index("targetSlivers", v)
		if err != nil {
			return 0, nil, err
		}
		targets = append(targets, i)
	}
	slices.Sort(targets)
	return tt, slices.Compact(targets), nil
}

// decodingSymbols computes, from each source sliver the store holds, its
// symbols towards every target, grouped by target.
func (s *Server) decodingSymbols(id blob.ID, srcs []source, tt blob.SliverType, targets []int) (map[uint16][]redstuff.EitherDecodingSymbol, error) {
	out := make(map[uint16][]redstuff.EitherDecodingSymbol, len(targets))
	for _, src := range srcs {
		sl, ok, err := s.deps.Store.Sliver(src.shard, src.t, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		syms, err := s.enc.DecodingSymbols(sl, targets)
		if err != nil {
			return nil, err
		}
		for i, t := range targets {
			out[uint16(t)] = append(out[uint16(t)], redstuff.EitherDecodingSymbol{Target: tt, DecodingSymbol: syms[i]})
		}
	}
	return out, nil
}
