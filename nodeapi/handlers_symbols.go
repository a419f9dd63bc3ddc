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

// getRecoverySymbols answers Vec<GeneralRecoverySymbol>: either the listed
// symbol IDs (id=<p>-<s>, repeatable; proofAxis picks the source axis when
// the node holds both), or every symbol the node can give towards one
// target sliver (targetSliver, targetType).
func (s *Server) getRecoverySymbols(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	axis, hasAxis, err := s.queryType(q, "proofAxis")
	if err != nil {
		return err
	}
	n := s.deps.Params.N()
	// plan: for each source sliver, the targets to compute from it.
	type job struct {
		src     source
		targets []int
	}
	var jobs []job
	count := 0
	switch ids := q["id"]; {
	case len(ids) > 0:
		if len(ids) > s.cfg.MaxSymbolIDs {
			return newError("INVALID_ARGUMENT", ReasonInvalidFilter, fmt.Sprintf("the filter is invalid: more than %d symbol IDs", s.cfg.MaxSymbolIDs), nil)
		}
		bySource := map[source][]int{}
		shardOf := map[source]uint16{} // the slivers the node may hold, by (axis, index)
		for _, src := range append(s.sources(id, blob.Primary), s.sources(id, blob.Secondary)...) {
			shardOf[source{t: src.t, index: src.index}] = src.shard
		}
		for _, v := range ids {
			sid, err := ParseSymbolID(v)
			if err != nil {
				return newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: "+err.Error(), nil)
			}
			if int(sid.Primary) >= n || int(sid.Secondary) >= n {
				return errIndexOutOfRange(int(max(sid.Primary, sid.Secondary)), n)
			}
			// From primary sliver p: the symbol at position s of its row
			// expansion, towards secondary sliver s; from secondary sliver
			// s: position p, towards primary sliver p.
			fromPrimary := source{t: blob.Primary, index: int(sid.Primary)}
			fromSecondary := source{t: blob.Secondary, index: int(sid.Secondary)}
			_, holdsPrimary := shardOf[fromPrimary]
			_, holdsSecondary := shardOf[fromSecondary]
			switch {
			case holdsPrimary && (!hasAxis || axis == blob.Primary):
				bySource[fromPrimary] = append(bySource[fromPrimary], int(sid.Secondary))
			case holdsSecondary && (!hasAxis || axis == blob.Secondary):
				bySource[fromSecondary] = append(bySource[fromSecondary], int(sid.Primary))
			default:
				return newError("FAILED_PRECONDITION", ReasonSymbolNotPresent,
					fmt.Sprintf("the requested recovery symbol %s is not the responsibility of this node's shards", sid), nil)
			}
			count++
		}
		for src, targets := range bySource {
			src.shard = shardOf[src]
			jobs = append(jobs, job{src, targets})
		}
		slices.SortFunc(jobs, func(a, b job) int {
			return cmp.Or(cmp.Compare(a.src.t, b.src.t), cmp.Compare(a.src.index, b.src.index))
		})
	default:
		tv := q.Get("targetSliver")
		tt, hasType, err := s.queryType(q, "targetType")
		if err != nil {
			return err
		}
		if tv == "" && !hasType {
			return newError("FAILED_PRECONDITION", ReasonNoSymbolsSpecified, "at least one symbol ID must be specified", nil)
		}
		if tv == "" || !hasType {
			return newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: targetSliver and targetType go together", nil)
		}
		target, err := s.index("targetSliver", tv)
		if err != nil {
			return err
		}
		for _, src := range s.sources(id, tt.Orthogonal()) {
			jobs = append(jobs, job{src, []int{target}})
			count++
		}
	}
	if s.blocked(id) {
		return errForbidden("sliver")
	}
	sym, err := s.symbolSize(id)
	if err != nil {
		return err
	}
	if size := int64(count) * int64(sym+16+65*33); size > s.cfg.MaxSymbolResponse {
		return newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: the answer would be too large",
			map[string]any{"max_symbols": s.cfg.MaxSymbolResponse / int64(sym+16+65*33)})
	}
	release, err := s.acquireSymbols(r.Context())
	if err != nil {
		return err
	}
	defer release()
	var out []redstuff.GeneralRecoverySymbol
	for _, j := range jobs {
		sl, ok, err := s.deps.Store.Sliver(j.src.shard, j.src.t, id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		syms, err := s.enc.RecoverySymbols(sl, j.targets)
		if err != nil {
			return err
		}
		out = append(out, syms...)
	}
	if len(out) == 0 {
		return newError("NOT_FOUND", ReasonSliverNotFound, "the node holds none of the slivers these symbols come from", nil)
	}
	writeBCS(w, redstuff.AppendRecoverySymbolsBCS(nil, out))
	return nil
}

// getDecodingSymbols answers BTreeMap<u16, Vec<EitherDecodingSymbol>>: for
// each target sliver (targetSlivers, repeatable; targetType), the symbols
// of its codeword that the node's slivers of the other axis give, without
// proofs. Each source sliver is expanded once for all targets.
func (s *Server) getDecodingSymbols(w http.ResponseWriter, r *http.Request) error {
	id, err := s.blobID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	tt, hasType, err := s.queryType(q, "targetType")
	if err != nil {
		return err
	}
	vals := q["targetSlivers"]
	if len(vals) == 0 {
		return newError("FAILED_PRECONDITION", ReasonNoSymbolsSpecified, "at least one target sliver must be specified", nil)
	}
	if !hasType {
		return newError("INVALID_ARGUMENT", ReasonInvalidFilter, "the filter is invalid: targetType is required", nil)
	}
	n := s.deps.Params.N()
	if len(vals) > n {
		return newError("INVALID_ARGUMENT", ReasonInvalidFilter, fmt.Sprintf("the filter is invalid: more than %d targets", n), nil)
	}
	var targets []int
	for _, v := range vals {
		i, err := s.index("targetSlivers", v)
		if err != nil {
			return err
		}
		targets = append(targets, i)
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
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
	out := make(map[uint16][]redstuff.EitherDecodingSymbol, len(targets))
	for _, src := range srcs {
		sl, ok, err := s.deps.Store.Sliver(src.shard, src.t, id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		syms, err := s.enc.DecodingSymbols(sl, targets)
		if err != nil {
			return err
		}
		for i, t := range targets {
			out[uint16(t)] = append(out[uint16(t)], redstuff.EitherDecodingSymbol{Target: tt, DecodingSymbol: syms[i]})
		}
	}
	if len(out) == 0 {
		return newError("NOT_FOUND", ReasonSliverNotFound, "the node holds no slivers these symbols come from", nil)
	}
	writeBCS(w, redstuff.AppendDecodingSymbolMapBCS(nil, out))
	return nil
}
