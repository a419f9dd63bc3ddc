package quilt

import (
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/bcs"
)

// BCS orders map entries by serialized key, so the ULEB128 length leads:
// "b" (01 62) before "aa" (02 61 61); long keys (two-byte lengths) last.
func TestTagsCanonicalOrder(t *testing.T) {
	long := strings.Repeat("a", 128) // length 80 01
	tags := map[string]string{"aa": "1", "b": "2", "ab": "3", long: "4"}
	got := appendTags(nil, tags)
	want := "04" + "0162" + "0132" + "026161" + "0131" + "026162" + "0133" +
		"8001" + hex.EncodeToString([]byte(long)) + "0134"
	if hex.EncodeToString(got) != want {
		t.Fatalf("got  %x\nwant %s", got, want)
	}
	if len(got) != tagsBCSSize(tags) {
		t.Fatalf("tagsBCSSize %d, want %d", tagsBCSSize(tags), len(got))
	}
	d := bcs.NewDecoder(got)
	if back := decodeTags(d); d.Finish() != nil || !maps.Equal(back, tags) {
		t.Fatalf("decoded %v, %v", back, d.Finish())
	}
	for name, h := range map[string]string{
		"out of order": "02" + "026161" + "0131" + "0162" + "0132",
		"duplicate":    "02" + "0162" + "0131" + "0162" + "0132",
		"short":        "02" + "0162" + "0131",
	} {
		b, _ := hex.DecodeString(h)
		d := bcs.NewDecoder(b)
		decodeTags(d)
		if err := d.Finish(); !errors.Is(err, bcs.ErrInvalid) && !errors.Is(err, bcs.ErrShort) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
