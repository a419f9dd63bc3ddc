package cmdenv

import "testing"

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"1B": 1, "1MiB": 1 << 20, "32MiB": 32 << 20, "256MiB": 256 << 20, "5MB": 5e6, "7": 7, "2KiB": 2048} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("%s: %d %v", s, got, err)
		}
	}
}
