package nodeapi

import (
	"errors"
	"math"
)

// ErrorEpoch returns the epoch a node's error names (ErrorInfo metadata
// "epoch", set by SHARD_NOT_ASSIGNED and MISSING_SLIVERS): the epoch the
// node was working in when it answered.
func ErrorEpoch(err error) (uint32, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return 0, false
	}
	switch v := e.Metadata["epoch"].(type) {
	case uint32: // an error made in this process
		return v, true
	case float64: // decoded from JSON
		if v >= 0 && v <= math.MaxUint32 && v == math.Trunc(v) {
			return uint32(v), true
		}
	}
	return 0, false
}
