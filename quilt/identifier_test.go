package quilt

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/blob"
)

// The examples of Walrus's validate_quilt_identifier doc tests, plus the
// length limits and the HTTP API's reserved leading '_'.
func TestValidateIdentifier(t *testing.T) {
	valid := []string{"test", "test123", "123test", "a", "A123", "_test", "-test", ".test",
		"test blob", "test-blob", "test_blob", "test.blob", "café-notes.txt", " leading space",
		"名前", strings.Repeat("x", MaxIdentifierLen)}
	invalid := []string{"", "test ", "test\t", "test\n", "test\r", "test   ", "te\x08st", "\x1btest",
		"test\x00", "test\x01", "test\x1f", "test\x7f", "test\u0080", "test\u0081", "test\u009f",
		"test\u00a0", "test\u3000", "bad\xffutf8", strings.Repeat("x", MaxIdentifierLen+1)}
	for _, id := range valid {
		if err := ValidateIdentifier(id); err != nil {
			t.Errorf("%s: %v", short(id), err)
		}
	}
	for _, id := range invalid {
		if err := ValidateIdentifier(id); !errors.Is(err, ErrInvalidIdentifier) {
			t.Errorf("%s: %v, want ErrInvalidIdentifier", short(id), err)
		}
		if err := ValidateHTTPIdentifier(id); !errors.Is(err, ErrInvalidIdentifier) {
			t.Errorf("HTTP %s: %v, want ErrInvalidIdentifier", short(id), err)
		}
	}
	if err := ValidateHTTPIdentifier("_metadata"); !errors.Is(err, ErrInvalidIdentifier) {
		t.Errorf("_metadata over HTTP: %v", err)
	}
	if err := ValidateHTTPIdentifier("a_b"); err != nil {
		t.Errorf("a_b over HTTP: %v", err)
	}
}

// In a patch header the identifier's BCS form must stay below 65535 bytes:
// 65531 bytes (+3 bytes of ULEB128) is the longest Encode accepts.
func TestEncodeIdentifierLength(t *testing.T) {
	p := blob.MustParams(10)
	for _, c := range []struct {
		n  int
		ok bool
	}{{65531, true}, {65532, false}, {65535, false}, {65536, false}} {
		_, err := Encode(p, []Patch{{Identifier: strings.Repeat("i", c.n)}})
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalidIdentifier)) {
			t.Errorf("identifier of %d bytes: %v (want ok=%v)", c.n, err, c.ok)
		}
	}
}
