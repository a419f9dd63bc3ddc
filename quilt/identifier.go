package quilt

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIdentifierLen is the longest identifier ValidateIdentifier accepts, in
// bytes (u16::MAX). Encode is stricter by a few bytes: the identifier's BCS
// form (ULEB128 length + bytes) must stay below 65535, so at most 65531 bytes.
const MaxIdentifierLen = 65535

// maxIdentifierBCS bounds the BCS size of an identifier in a patch header
// (Walrus serialized_blob_size rejects a size >= u16::MAX).
const maxIdentifierBCS = 65535

// ValidateIdentifier applies Walrus's validate_quilt_identifier: the
// identifier is non-empty, at most MaxIdentifierLen bytes of UTF-8, has no
// trailing whitespace (Unicode White_Space, as Rust's trim_end) and no
// control characters (category Cc, as Rust's char::is_control). The
// documentation's "starts with an alphanumeric character" is not enforced by
// Walrus's code, so not here either.
func ValidateIdentifier(id string) error {
	if len(id) > MaxIdentifierLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidIdentifier, len(id), MaxIdentifierLen)
	}
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidIdentifier)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidIdentifier, short(id))
	}
	if strings.TrimRightFunc(id, unicode.IsSpace) != id {
		return fmt.Errorf("%w: %s has trailing whitespace", ErrInvalidIdentifier, short(id))
	}
	if strings.ContainsFunc(id, unicode.IsControl) {
		return fmt.Errorf("%w: %s contains control characters", ErrInvalidIdentifier, short(id))
	}
	return nil
}

// ValidateHTTPIdentifier is ValidateIdentifier plus the publisher's rule for
// multipart field names: a leading '_' is reserved (the "_metadata" field).
func ValidateHTTPIdentifier(id string) error {
	if err := ValidateIdentifier(id); err != nil {
		return err
	}
	if strings.HasPrefix(id, "_") {
		return fmt.Errorf("%w: %s starts with '_', which the HTTP API reserves", ErrInvalidIdentifier, short(id))
	}
	return nil
}

// bcsLenSize is the size of n's ULEB128 encoding.
func bcsLenSize(n int) int {
	k := 1
	for n >= 0x80 {
		n >>= 7
		k++
	}
	return k
}

// short quotes s for an error message, cut to a readable length.
func short(s string) string {
	const limit = 64
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…(%d bytes)", s[:limit], len(s))
}
