package cmdenv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/client"
)

// DefaultShards is the shard count of Walrus Mainnet and Testnet.
const DefaultShards = 1000

// ParseSize parses sizes like 1B, 10KiB, 32MiB, 1GiB, 5MB or a plain byte count.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return v * mult, nil
}

// HumanBytes formats a byte count in binary units.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// Seconds formats a duration in seconds: milliseconds below a second.
func Seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.1fms", s*1000)
	}
	return fmt.Sprintf("%.3fs", s)
}

// Frost formats an amount of FROST as WAL.
func Frost(v uint64) string {
	return fmt.Sprintf("%s WAL", strconv.FormatFloat(float64(v)/client.FrostPerWAL, 'f', -1, 64))
}

// Count is n followed by the noun, singular (one) when n is 1 and plural
// (many) otherwise: Count(1, "patch", "patches") is "1 patch".
func Count[N ~int | ~int64 | ~uint32 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
