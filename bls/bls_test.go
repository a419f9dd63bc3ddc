package bls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	blst "github.com/supranational/blst/bindings/go"

	"github.com/walrus-go/walrus/ids"
	"github.com/walrus-go/walrus/wire"
)

// Values from shared/spec/vectors/bls.md.
const (
	vecMessage = "01000315000000070707070707070707070707070707070707070707070707070707070707070700"
	vecAggSig  = "afb6b9ec44e3fafa89a36c7877ad12b91d0399fcc1cc02e714e37864905fc3c0ea9cd2fc4590ed0483e891f24892894514e85f05dd4b5e44769d4bbd2fec05f934f40141186d6d4425be85bd9791a840915dcb39fdd311512967abd1aca309ca"
	vecAggPK   = "8ac7a6984dcfdd187b9a273de73642739ba5690dc88bf1b43fdb9d393fc2c48cc6b74aff664b88a2d1ae4643676ad35d"
	vecPopMsg  = "00000315000000ababababababababababababababababababababababababababababababababa4440ee29a23de1a4b29a42011ce7ddb010e7711f91ef441321b18932afcccee7e20b0f00556b8a347fbe08c88d6004a"
	vecPopSig  = "929463eba3d59e853e36b54e596fc0993b4453f4b179a7ad35e2e7a73adcc8ded70fe7fb6fa588eb89db379fc5d783850e2e92c6fb58fa06abb56214ba94fcfe99c340ce6baec9f602413cf672d9c07642ba9c48b8b9a1b15ce4b26cb0cc88bf"
)

var vecKeys = []struct{ ikm, sk, pk, sig string }{
	{
		"462d3e79c9e38c574db79f7553802d7fb7c6ce8d050ba20f40fe2512dbcd011d",
		"2e37f2387891cc81fd285442e62fde19dfab7ab4ab3048ec8499c4d588bbaffe",
		"a4440ee29a23de1a4b29a42011ce7ddb010e7711f91ef441321b18932afcccee7e20b0f00556b8a347fbe08c88d6004a",
		"af18f6c8c175161c6e86c660109b22f5c6d0c181f5b6bb5be3cbe03b07ba8163d97f0a506b3fbab116f8e613a0dd30ed16394b0508add416bcf097dfea1d63c1f6542d4462af4813f0a8c8b7697a1f40bcbc1d22f5652b499b31400d66042c2c",
	},
	{
		"7f03c30da168fa900a8a83ba28ae894bd1f7100135c05f101c94f5a15c623cac",
		"4df2e35d459a8b3f08f53636fb86f4ca575d845f72949ba7594d2e276a5003bf",
		"b634886c47fa4eeb1c58a3f38b4077765e6f8350de1f9842902e53dbdec060b9bf2c54e148f13ee58ac6f1e6bf89ff71",
		"b92a41b8ceb55e23da2fd5c9d54d97abc9ba06610bc2693b92d65dad7f0489a374f259f1823458905a11592cba90dfeb055a51bbd788b21d78b684cf685322cbc8c68d7af730ffdf3489879a299238c266975d72add50dd64fdd125191f55f62",
	},
	{
		"dfee59fbb6eea81cdae50098d571bcc6de7101f6f57a5c182cee196482dee149",
		"0118483ad8a0a85d1d064d6f6847cbde5b64814aecdcc07611bad663016432ec",
		"9423544377f54f8a3efa2b1d37e8a4ed6a387744739032e4cbf123b6f15237bac6829252b937883e969dbd185180f636",
		"84839b0a05a2e118006bb8b726db24f46c00ce32ba170e9f57f19a3dc23cb3621931cb894eef2f60b3f1932afdcd976c18b542f23aff477fcd0ec9fbc2613b0939723bedd5de51c24ba7c797fe7276c98b4c379706b3ed43798abb71c852660e",
	},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectors(t *testing.T) {
	msg := unhex(t, vecMessage)
	var pks []PublicKey
	var sigs []Signature
	for i, v := range vecKeys {
		sk, err := KeyFromIKM(unhex(t, v.ikm))
		if err != nil {
			t.Fatal(err)
		}
		if got := sk.Bytes(); hex.EncodeToString(got[:]) != v.sk {
			t.Errorf("key %d: secret %x, want %s", i, got, v.sk)
		}
		pk := sk.PublicKey()
		if got := pk.Bytes(); hex.EncodeToString(got[:]) != v.pk {
			t.Errorf("key %d: public %x, want %s", i, got, v.pk)
		}
		sig := sk.Sign(msg)
		if got := sig.Bytes(); hex.EncodeToString(got[:]) != v.sig {
			t.Errorf("key %d: signature %x, want %s", i, got, v.sig)
		}
		// Round trips through the parsers.
		sk2, err := SecretKeyFromBytes(unhex(t, v.sk))
		if err != nil || sk2.PublicKey().Bytes() != pk.Bytes() {
			t.Errorf("key %d: secret key round trip: %v", i, err)
		}
		ppk, err := ParsePublicKey(unhex(t, v.pk))
		if err != nil || !ppk.Equal(pk) {
			t.Errorf("key %d: parse public key: %v", i, err)
		}
		psig, err := ParseSignature(unhex(t, v.sig))
		if err != nil {
			t.Fatalf("key %d: parse signature: %v", i, err)
		}
		if err := Verify(ppk, msg, psig); err != nil {
			t.Errorf("key %d: verify: %v", i, err)
		}
		pks, sigs = append(pks, ppk), append(sigs, psig)
	}
	agg, err := AggregateSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	if got := agg.Bytes(); hex.EncodeToString(got[:]) != vecAggSig {
		t.Errorf("aggregate signature %x, want %s", got, vecAggSig)
	}
	aggPK, err := AggregatePublicKeys(pks)
	if err != nil {
		t.Fatal(err)
	}
	if got := aggPK.Bytes(); hex.EncodeToString(got[:]) != vecAggPK {
		t.Errorf("aggregate public key %x, want %s", got, vecAggPK)
	}
	if err := FastAggregateVerify(pks, msg, agg); err != nil {
		t.Errorf("fast aggregate verify: %v", err)
	}
	if err := FastAggregateVerify(pks[:2], msg, agg); !errors.Is(err, ErrVerify) {
		t.Errorf("fast aggregate verify with a key missing: %v, want ErrVerify", err)
	}
	bad := bytes.Clone(msg)
	bad[len(bad)-2] ^= 1
	if err := FastAggregateVerify(pks, bad, agg); !errors.Is(err, ErrVerify) {
		t.Errorf("fast aggregate verify of another message: %v, want ErrVerify", err)
	}
}

func TestProofOfPossessionVector(t *testing.T) {
	sk, err := KeyFromIKM(unhex(t, vecKeys[0].ikm))
	if err != nil {
		t.Fatal(err)
	}
	var addr ids.Address
	for i := range addr {
		addr[i] = 0xab
	}
	pop, sig := sk.ProofOfPossession(21, addr)
	if got := pop.Marshal(); hex.EncodeToString(got) != vecPopMsg {
		t.Errorf("pop message %x, want %s", got, vecPopMsg)
	}
	if got := sig.Bytes(); hex.EncodeToString(got[:]) != vecPopSig {
		t.Errorf("pop signature %x, want %s", got, vecPopSig)
	}
	parsed, err := wire.ParseProofOfPossession(unhex(t, vecPopMsg))
	if err != nil {
		t.Fatal(err)
	}
	psig, err := ParseSignature(unhex(t, vecPopSig))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := VerifyProofOfPossession(parsed, psig)
	if err != nil || !pk.Equal(sk.PublicKey()) {
		t.Fatalf("verify pop: %v", err)
	}
	// A proof for another address or epoch does not verify.
	parsed.Address[0] ^= 1
	if _, err := VerifyProofOfPossession(parsed, psig); !errors.Is(err, ErrVerify) {
		t.Errorf("pop for another address: %v, want ErrVerify", err)
	}
	parsed.Address[0] ^= 1
	parsed.Epoch++
	if _, err := VerifyProofOfPossession(parsed, psig); !errors.Is(err, ErrVerify) {
		t.Errorf("pop for another epoch: %v, want ErrVerify", err)
	}
}

func TestRejectInvalidEncodings(t *testing.T) {
	// Compressed identity: flag bits 0xc0, rest zero.
	infPK := make([]byte, PublicKeyLen)
	infPK[0] = 0xc0
	infSig := make([]byte, SignatureLen)
	infSig[0] = 0xc0
	if _, err := ParsePublicKey(infPK); !errors.Is(err, ErrPublicKey) {
		t.Errorf("identity public key: %v", err)
	}
	if _, err := ParseSignature(infSig); !errors.Is(err, ErrSignature) {
		t.Errorf("identity signature: %v", err)
	}
	if _, err := ParsePublicKey(make([]byte, PublicKeyLen)); !errors.Is(err, ErrPublicKey) {
		t.Errorf("zero public key: %v", err)
	}
	if _, err := ParsePublicKey(make([]byte, 47)); !errors.Is(err, ErrPublicKey) {
		t.Errorf("short public key: %v", err)
	}
	if _, err := ParseSignature(make([]byte, 95)); !errors.Is(err, ErrSignature) {
		t.Errorf("short signature: %v", err)
	}
	// A point on the curve but outside the prime-order subgroup: most x give
	// one, since the cofactor of G1 is large.
	found := false
	for x := byte(1); x < 200 && !found; x++ {
		b := make([]byte, PublicKeyLen)
		b[0] = 0x80
		b[PublicKeyLen-1] = x
		p := new(blst.P1Affine).Uncompress(b)
		if p == nil || p.InG1() {
			continue
		}
		found = true
		if _, err := ParsePublicKey(b); !errors.Is(err, ErrPublicKey) {
			t.Errorf("point outside G1 (x=%d): %v", x, err)
		}
	}
	if !found {
		t.Fatal("no off-subgroup point found")
	}
	foundSig := false
	for x := byte(1); x < 200 && !foundSig; x++ {
		b := make([]byte, SignatureLen)
		b[0] = 0x80
		b[SignatureLen-1] = x
		p := new(blst.P2Affine).Uncompress(b)
		if p == nil || p.InG2() {
			continue
		}
		foundSig = true
		if _, err := ParseSignature(b); !errors.Is(err, ErrSignature) {
			t.Errorf("point outside G2 (x=%d): %v", x, err)
		}
	}
	if !foundSig {
		t.Fatal("no off-subgroup G2 point found")
	}
	if _, err := SecretKeyFromBytes(make([]byte, 32)); !errors.Is(err, ErrSecretKey) {
		t.Errorf("zero secret key: %v", err)
	}
	if _, err := KeyFromIKM(make([]byte, 31)); !errors.Is(err, ErrSecretKey) {
		t.Errorf("short IKM: %v", err)
	}
	if err := Verify(PublicKey{}, nil, Signature{}); err == nil {
		t.Error("verify with zero values succeeded")
	}
}

func TestGenerateKeySignVerify(t *testing.T) {
	sk, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hello walrus")
	if err := Verify(sk.PublicKey(), msg, sk.Sign(msg)); err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey(nil)
	if err := Verify(other.PublicKey(), msg, sk.Sign(msg)); !errors.Is(err, ErrVerify) {
		t.Fatalf("verify under another key: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(unhex(f, vecKeys[0].pk))
	f.Add(unhex(f, vecKeys[0].sig))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pk, err := ParsePublicKey(b); err == nil {
			if got := pk.Bytes(); !bytes.Equal(got[:], b) {
				t.Fatalf("public key does not round-trip")
			}
		}
		if s, err := ParseSignature(b); err == nil {
			if got := s.Bytes(); !bytes.Equal(got[:], b) {
				t.Fatalf("signature does not round-trip")
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	sk, _ := GenerateKey(nil)
	msg := unhex(b, vecMessage)
	sig := sk.Sign(msg)
	pk := sk.PublicKey()
	for b.Loop() {
		if err := Verify(pk, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}
