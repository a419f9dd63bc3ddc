package cmdenv

import "testing"

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"1B": 1, "1MiB": 1 << 20, "32MiB": 32 << 20, "256MiB": 256 << 20, "5MB": 5e6, "7": 7, "2KiB": 2048} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("%s: %d %v", s, got, err)
		}
	}
}

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 blob objects"}, {1, "1 blob object"}, {2, "2 blob objects"}} {
		if got := Count(c.n, "blob object", "blob objects"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Count(uint32(3), "patch", "patches"); got != "3 patches" {
		t.Errorf("Count(3 patches) = %q", got)
	}
}
