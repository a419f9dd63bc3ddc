package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	v := Version()
	if !strings.HasSuffix(v, " "+runtime.Version()) || strings.HasPrefix(v, " ") {
		t.Fatalf("Version() = %q", v)
	}
}
