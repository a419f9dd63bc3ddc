package wallet

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	k, err := Generate(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := Parse(Marshal(k))
	if err != nil || len(keys) != 1 || !keys[0].Equal(k) {
		t.Fatalf("%v %v", keys, err)
	}
	p := filepath.Join(t.TempDir(), "d", "wallet.json")
	if err := Write(p, k); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, k); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwrite: %v", err)
	}
	got, err := Load(p)
	if err != nil || !got.Equal(k) {
		t.Fatalf("load: %v", err)
	}
}

// A Sui keystore entry: flag 0x00 and a 32-byte seed; the address follows
// Sui's rule (checked against the chain package's own vector elsewhere).
func TestParse(t *testing.T) {
	seed := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g" // 0x00 ‖ 01..20
	for _, c := range []struct {
		in   string
		keys int
		ok   bool
	}{
		{`["` + seed + `"]`, 1, true},
		{`["AgECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g","` + seed + `"]`, 1, true}, // secp256r1 skipped
		{`[]`, 0, false},
		{`["AgECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"]`, 0, false},
		{`["AAE="]`, 0, false},
		{`{"a":1}`, 0, false},
		{`["not base64!"]`, 0, false},
		{``, 0, false},
	} {
		keys, err := Parse([]byte(c.in))
		if c.ok != (err == nil) || len(keys) != c.keys {
			t.Errorf("%q: %d keys, %v", c.in, len(keys), err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v is not ErrInvalid", c.in, err)
		}
	}
	keys, _ := Parse([]byte(`["` + seed + `"]`))
	if keys[0].Seed()[0] != 1 || keys[0].Seed()[31] != 0x20 {
		t.Fatal("seed bytes")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`["AgECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || keys != nil {
				t.Fatalf("%v %v", keys, err)
			}
			return
		}
		again, err := Parse(Marshal(keys...))
		if err != nil || len(again) != len(keys) {
			t.Fatalf("re-parse: %v", err)
		}
		for i := range keys {
			if !again[i].Equal(keys[i]) {
				t.Fatal("key changed")
			}
		}
	})
}
