// Package layers holds only a test: the dependency direction of ARCHITECTURE.md,
// checked with `go list -deps`.
package layers
