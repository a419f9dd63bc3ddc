//go:build !amd64 || purego

package rs

var (
	hasAVX2 = false
	hasGFNI = false
)

func useAVX2()    {}
func useGFNI()    {}
func useGeneric() {}

// Impl names the active kernels.
func Impl() string { return "generic" }
