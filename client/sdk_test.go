package client

import (
	"testing"
	"time"
)

func TestEpochClock(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clk := EpochClock{Epoch: 10, Start: start, Duration: time.Hour, MaxEpochsAhead: 53}
	for _, c := range []struct {
		epoch uint32
		want  time.Time
	}{{10, start}, {11, start.Add(time.Hour)}, {13, start.Add(3 * time.Hour)}, {8, start.Add(-2 * time.Hour)}} {
		if got := clk.StartOf(c.epoch); !got.Equal(c.want) {
			t.Errorf("StartOf(%d) = %v, want %v", c.epoch, got, c.want)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want uint32
	}{
		{start, 10}, {start.Add(59 * time.Minute), 10}, {start.Add(time.Hour), 11}, {start.Add(-time.Millisecond), 9},
		{start.Add(-time.Hour), 9}, {start.Add(-time.Hour - time.Millisecond), 8}, {start.Add(-100 * time.Hour), 0},
	} {
		if got := clk.EpochAt(c.at); got != c.want {
			t.Errorf("EpochAt(%v) = %d, want %d", c.at, got, c.want)
		}
	}
	for _, c := range []struct {
		until time.Time
		want  uint32
	}{{start.Add(-time.Hour), 1}, {start, 1}, {start.Add(time.Minute), 1}, {start.Add(time.Hour), 1}, {start.Add(time.Hour + 1), 2},
		{start.Add(100 * time.Hour), 100}} {
		if got := clk.EpochsToCover(c.until); got != c.want {
			t.Errorf("EpochsToCover(%v) = %d, want %d", c.until, got, c.want)
		}
	}
	// Every epoch's start lies in that epoch.
	for e := uint32(0); e < 30; e++ {
		if got := clk.EpochAt(clk.StartOf(e)); got != e {
			t.Errorf("EpochAt(StartOf(%d)) = %d", e, got)
		}
	}
}
