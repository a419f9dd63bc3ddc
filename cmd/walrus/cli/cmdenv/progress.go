package cmdenv

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/client"
)

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress draws one line on a terminal: the phase and, for counted
// phases, a bar. It redraws at most every 100 ms. A nil bar does nothing.
type Progress struct {
	w     io.Writer
	label string
	mu    sync.Mutex
	last  time.Time
	shown bool
}

// NewProgress returns a bar on stderr if it is a terminal and the output
// is not JSON, else nil.
func (e *Env) NewProgress(label string) *Progress {
	if e.JSON || !IsTerminal(e.Stderr) {
		return nil
	}
	return &Progress{w: e.Stderr, label: label}
}

// Update is a client.Progress callback.
func (b *Progress) Update(p client.Progress) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if p.Total > 0 && p.Done < p.Total && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	line := fmt.Sprintf("%s: %s", b.label, p.Phase)
	if p.Total > 0 {
		const width = 30
		frac := min(float64(p.Done)/float64(p.Total), 1)
		n := int(frac * width)
		unit := func(v int64) string { return HumanBytes(v) }
		if p.Phase == client.PhaseSlivers {
			unit = func(v int64) string { return fmt.Sprint(v) }
		}
		line += fmt.Sprintf(" [%s%s] %3.0f%% %s/%s", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, unit(p.Done), unit(p.Total))
	}
	fmt.Fprintf(b.w, "\r\033[K%s", line)
	b.shown = true
}

// Done clears the line.
func (b *Progress) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

// Callback returns the bar's update function (nil for no bar).
func (b *Progress) Callback() func(client.Progress) {
	if b == nil {
		return nil
	}
	return b.Update
}
