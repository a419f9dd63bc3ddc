package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestManualWakesOnlyWhenDue(t *testing.T) {
	m := NewManual(time.Unix(100, 0))
	ch := m.After(10 * time.Second)
	m.Advance(9 * time.Second)
	select {
	case <-ch:
		t.Fatal("woke 1 s early")
	default:
	}
	if m.Waiters() != 1 {
		t.Fatalf("%d waiters, want 1", m.Waiters())
	}
	m.Advance(time.Second)
	if got := <-ch; !got.Equal(time.Unix(110, 0)) {
		t.Fatalf("woke at %v", got)
	}
	if m.Waiters() != 0 {
		t.Fatalf("%d waiters left", m.Waiters())
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := NewManual(time.Time{})
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, m, time.Hour) }()
	for m.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	m.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	go func() { done <- Sleep(ctx, m, time.Hour) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep after cancel: %v", err)
	}
	if err := Sleep(context.Background(), nil, time.Millisecond); err != nil {
		t.Fatalf("system Sleep: %v", err)
	}
}
