package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/walrus-go/walrus/client"
)

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws one line on a terminal: the phase and, for counted
// phases, a bar. It redraws at most every 100 ms. A nil bar does nothing.
type progressBar struct {
	w     io.Writer
	label string
	mu    sync.Mutex
	last  time.Time
	shown bool
}

// newProgress returns a bar on stderr if it is a terminal and the output
// is not JSON, else nil.
func (e *env) newProgress(label string) *progressBar {
	if e.json || !isTerminal(e.stderr) {
		return nil
	}
	return &progressBar{w: e.stderr, label: label}
}

// update is a client.Progress callback.
func (b *progressBar) update(p client.Progress) {
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
		unit := func(v int64) string { return humanBytes(v) }
		if p.Phase == client.PhaseSlivers {
			unit = func(v int64) string { return fmt.Sprint(v) }
		}
		line += fmt.Sprintf(" [%s%s] %3.0f%% %s/%s", strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, unit(p.Done), unit(p.Total))
	}
	fmt.Fprintf(b.w, "\r\033[K%s", line)
	b.shown = true
}

// done clears the line.
func (b *progressBar) done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.shown {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

// callback returns the bar's update function (nil for no bar).
func (b *progressBar) callback() func(client.Progress) {
	if b == nil {
		return nil
	}
	return b.update
}
