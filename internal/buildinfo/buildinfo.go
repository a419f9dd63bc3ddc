// Package buildinfo describes the running binary for --version.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version describes the binary: its module version, the commit it was
// built from (with "+dirty" for uncommitted changes) and the Go release.
func Version() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := v
	if rev != "" {
		out += " commit " + rev
		if dirty {
			out += "+dirty"
		}
	}
	return out + " " + runtime.Version()
}
