// Package clock is the time source of background loops: the system's
// clock in production, a manual one in tests, so that a loop's pacing can
// be tested without sleeping.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and wakes sleepers.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// System is the wall clock.
var System Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) After(d time.Duration) <-chan time.Time {
	// A timer that is not stopped is collected once unreferenced (Go 1.23).
	return time.NewTimer(d).C
}

// Sleep waits d on c, or until ctx ends; it returns ctx's error then.
// A nil c is the system clock.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if c == nil {
		c = System
	}
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// Manual is a clock that moves only when told (Advance). Its zero value
// starts at the Unix epoch.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a manual clock at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now is the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// After delivers once the clock has been advanced by d.
func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := m.now.Add(d)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.waiters = append(m.waiters, waiter{at, ch})
	return ch
}

// Advance moves the clock by d and wakes the sleepers that are due.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if w.at.After(m.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- m.now
	}
	m.waiters = kept
}

// Waiters is the number of sleepers not yet woken (tests wait for a loop
// to go to sleep before advancing).
func (m *Manual) Waiters() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters)
}
