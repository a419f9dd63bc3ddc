package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/bcs"
)

// SignedMessage is a serialized message with one node's BLS signature over it.
// Its JSON form is Walrus's: {"serializedMessage": base64, "signature": base64}.
type SignedMessage struct {
	Message   []byte
	Signature [SignatureLen]byte
}

type signedMessageJSON struct {
	SerializedMessage string `json:"serializedMessage"`
	Signature         string `json:"signature"`
}

// MarshalJSON implements json.Marshaler.
func (s SignedMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(signedMessageJSON{
		SerializedMessage: base64.StdEncoding.EncodeToString(s.Message),
		Signature:         base64.StdEncoding.EncodeToString(s.Signature[:]),
	})
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *SignedMessage) UnmarshalJSON(b []byte) error {
	var j signedMessageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	msg, err := base64.StdEncoding.DecodeString(j.SerializedMessage)
	if err != nil {
		return fmt.Errorf("%w: serializedMessage: %w", ErrMessage, err)
	}
	sig, err := base64.StdEncoding.DecodeString(j.Signature)
	if err != nil || len(sig) != SignatureLen {
		return fmt.Errorf("%w: signature is not base64 of %d bytes", ErrMessage, SignatureLen)
	}
	s.Message = msg
	copy(s.Signature[:], sig)
	return nil
}

// AppendBCS appends the message as a byte vector and the raw signature.
func (s *SignedMessage) AppendBCS(b []byte) []byte {
	return append(bcs.AppendBytes(b, s.Message), s.Signature[:]...)
}

// DecodeSignedMessage reads a SignedMessage from d.
func DecodeSignedMessage(d *bcs.Decoder) SignedMessage {
	var s SignedMessage
	s.Message = slices.Clone(d.Bytes(1 << 20))
	copy(s.Signature[:], d.Fixed(SignatureLen))
	return s
}

// Certificate is a message signed by several committee members: their indices
// in the committee's member list, the message, and the aggregate signature.
type Certificate struct {
	Signers   []uint16
	Message   []byte
	Signature [SignatureLen]byte
}

// AppendBCS appends ProtocolMessageCertificate: signers (Vec<u16>), the
// message bytes, the 96-byte aggregate signature.
func (c *Certificate) AppendBCS(b []byte) []byte {
	b = bcs.AppendLen(b, len(c.Signers))
	for _, s := range c.Signers {
		b = bcs.AppendU16(b, s)
	}
	b = bcs.AppendBytes(b, c.Message)
	return append(b, c.Signature[:]...)
}

// UnmarshalCertificate decodes exactly one certificate.
func UnmarshalCertificate(b []byte) (Certificate, error) {
	d := bcs.NewDecoder(b)
	var c Certificate
	n := d.Len(65535, 2)
	if d.Err() == nil {
		c.Signers = make([]uint16, n)
		for i := range c.Signers {
			c.Signers[i] = d.U16()
		}
	}
	c.Message = slices.Clone(d.Bytes(1 << 20))
	copy(c.Signature[:], d.Fixed(SignatureLen))
	if err := finish(d); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// SignersBitmap turns member indices into the on-chain signer bitmap:
// ceil(members/8) bytes, member i at bit i%8 (LSB first) of byte i/8.
// Indices must be below members and distinct.
func SignersBitmap(signers []uint16, members int) ([]byte, error) {
	bm := make([]byte, (members+7)/8)
	for _, s := range signers {
		if int(s) >= members {
			return nil, fmt.Errorf("%w: signer %d of %d members", ErrMessage, s, members)
		}
		if bm[s/8]&(1<<(s%8)) != 0 {
			return nil, fmt.Errorf("%w: signer %d listed twice", ErrMessage, s)
		}
		bm[s/8] |= 1 << (s % 8)
	}
	return bm, nil
}

// BitmapSigners is the inverse of SignersBitmap: it returns the member
// indices in ascending order and rejects a bitmap of the wrong length or with
// bits set beyond the member count.
func BitmapSigners(bm []byte, members int) ([]uint16, error) {
	if len(bm) != (members+7)/8 {
		return nil, fmt.Errorf("%w: bitmap of %d bytes for %d members", ErrMessage, len(bm), members)
	}
	var out []uint16
	for i := range len(bm) * 8 {
		if bm[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if i >= members {
			return nil, fmt.Errorf("%w: bitmap bit %d beyond %d members", ErrMessage, i, members)
		}
		out = append(out, uint16(i))
	}
	return out, nil
}
