package client

import "sync"

// reporter serializes the progress callbacks of one operation.
type reporter struct {
	fn    func(Progress)
	mu    sync.Mutex
	cur   Phase
	count struct{ done, total int64 } // of the counted phase (upload and its tail, or slivers)
}

func newReporter(fn func(Progress)) *reporter { return &reporter{fn: fn} }

func (r *reporter) emit() {
	p := Progress{Phase: r.cur}
	if r.cur == PhaseUpload || r.cur == PhaseTail || r.cur == PhaseSlivers {
		p.Done, p.Total = r.count.done, r.count.total
	}
	r.fn(p)
}

// phase enters a phase.
func (r *reporter) phase(p Phase) {
	if r == nil || r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = p
	r.emit()
}

// bytes enters a counted phase with its counters.
func (r *reporter) bytes(p Phase, done, total int64) {
	if r == nil || r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur, r.count.done, r.count.total = p, done, total
	r.emit()
}

// add advances the counter; it reports only in a counted phase.
func (r *reporter) add(n int64) {
	if r == nil || r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count.done += n
	if r.cur == PhaseUpload || r.cur == PhaseTail || r.cur == PhaseSlivers {
		r.emit()
	}
}
