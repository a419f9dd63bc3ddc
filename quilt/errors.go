package quilt

import "errors"

// Sentinel errors. Every error of this package wraps one of them (with the
// details); classify with errors.Is.
var (
	// ErrInvalidIdentifier: ValidateIdentifier, ValidateHTTPIdentifier and
	// Encode reject an identifier (empty, too long, trailing whitespace,
	// control characters, not UTF-8, or a leading '_' for the HTTP API).
	ErrInvalidIdentifier = errors.New("quilt: invalid identifier")
	// ErrDuplicateIdentifier: Encode was given two patches with one identifier.
	ErrDuplicateIdentifier = errors.New("quilt: duplicate identifier")
	// ErrInvalidTags: Encode was given tags that are not UTF-8 or whose BCS
	// form exceeds 65535 bytes.
	ErrInvalidTags = errors.New("quilt: invalid tags")
	// ErrNoPatches: Encode was given no patches.
	ErrNoPatches = errors.New("quilt: no patches")
	// ErrTooManyPatches: Encode was given more than MaxPatches(p) patches.
	ErrTooManyPatches = errors.New("quilt: too many patches")
	// ErrTooLarge: the patches do not fit in one blob (the symbol size would
	// exceed 65534), or one patch exceeds the u32 length of its header.
	ErrTooLarge = errors.New("quilt: too large")
	// ErrVersion: the bytes carry a quilt version other than 1.
	ErrVersion = errors.New("quilt: unsupported quilt version")
	// ErrMalformed: an index, a patch header or a quilt blob does not decode.
	ErrMalformed = errors.New("quilt: malformed quilt")
	// ErrMissingColumns: the columns given do not cover the bytes to read.
	ErrMissingColumns = errors.New("quilt: missing columns")
	// ErrInvalidPatchID: a patch ID does not parse or does not fit the quilt.
	ErrInvalidPatchID = errors.New("quilt: invalid patch ID")
	// ErrNotFound: no patch has the identifier or the patch ID asked for.
	ErrNotFound = errors.New("quilt: patch not found")
)
