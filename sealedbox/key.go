package sealedbox

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
)

var ecdhX25519 = ecdh.X25519()

// Binary key encodings (FORMAT.md): a 3-byte magic, the format version, the
// 6-byte suite id, then the key bytes of the KEM. Text encodings: prefix ‖
// base64url(binary ‖ checksum). Both are the family of sealedbox/internal/keyform.
const keyHeaderSize = keyform.SuiteHeaderSize

// A KeyID is the fingerprint of a public key: SHA-256 of the public key's
// binary encoding. Envelopes carry the key id of their recipient, and a
// wrapped private key (sealedbox/e2e) the key id of its public key.
type KeyID [sha256.Size]byte

// String returns the key id in lower-case hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// A PublicKey is the public half of a key pair: anyone who has it can
// [Seal] envelopes that only the holder of the [PrivateKey] can [Open].
//
// Its binary and text encodings ([PublicKey.MarshalBinary],
// [PublicKey.MarshalText]) name the suite, so a PublicKey decodes without
// being told which suite it belongs to. The zero PublicKey is not a key; use
// [ParsePublicKey], [PublicKey.UnmarshalText] or
// [PublicKey.UnmarshalBinary] to fill one.
type PublicKey struct {
	suite *Suite
	pk    hpke.PublicKey
	enc   []byte // binary encoding
	id    KeyID
}

// A PrivateKey is a key pair. Generate one with [GenerateKey]; store it only
// wrapped (sealedbox/e2e's WrapPrivateKey) or in a place as safe as the
// plaintexts it opens.
//
// Its encodings are those of [PublicKey] with another magic and prefix: a
// private key pasted where a public key is expected is refused, and the
// reverse. The zero PrivateKey is not a key.
type PrivateKey struct {
	suite *Suite
	sk    hpke.PrivateKey
	raw   []byte // the KEM private key bytes, as encoded
	pub   *PublicKey
}

// GenerateKey returns a new key pair of the default suite, [MLKEM768X25519].
// Its randomness comes from crypto/rand.
func GenerateKey() (*PrivateKey, error) { return suiteMLKEM768X25519.GenerateKey() }

// GenerateKey returns a new key pair of suite s. Its randomness comes from
// crypto/rand.
func (s *Suite) GenerateKey() (*PrivateKey, error) {
	if !s.valid() {
		return nil, errKey("GenerateKey on an invalid suite")
	}
	var raw []byte
	switch s {
	case suiteX25519:
		k, err := ecdhX25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, reason.Wrap(errGenerate, nil, err)
		}
		raw = k.Bytes()
	case suiteMLKEM768X25519:
		sk, err := s.kem.GenerateKey()
		if err != nil {
			return nil, reason.Wrap(errGenerate, nil, err)
		}
		if raw, err = sk.Bytes(); err != nil {
			return nil, reason.Wrap(errGenerate, nil, err)
		}
	}
	return newPrivateKey(s, raw)
}

// newPrivateKey returns the private key of suite s whose KEM private key
// bytes are raw: the 32-byte X25519 scalar (as generated, before clamping) or
// the 32-byte X-Wing seed.
func newPrivateKey(s *Suite, raw []byte) (*PrivateKey, error) {
	if len(raw) != privSize {
		return nil, errKey("private key has the wrong length")
	}
	var sk hpke.PrivateKey
	var err error
	switch s {
	case suiteX25519:
		// Through crypto/ecdh, so that the scalar is kept as given and
		// encodes back to the same bytes (hpke's Bytes would clamp it).
		var k *ecdh.PrivateKey
		if k, err = ecdhX25519.NewPrivateKey(raw); err == nil {
			sk, err = hpke.NewDHKEMPrivateKey(k)
		}
	default:
		sk, err = s.kem.NewPrivateKey(raw)
	}
	if err != nil {
		return nil, errKey("not a valid private key of its suite")
	}
	pub, err := newPublicKey(s, sk.PublicKey().Bytes())
	if err != nil {
		return nil, err
	}
	return &PrivateKey{suite: s, sk: sk, raw: bytes.Clone(raw), pub: pub}, nil
}

func newPublicKey(s *Suite, raw []byte) (*PublicKey, error) {
	if len(raw) != s.pubSize {
		return nil, errKey("public key has the wrong length")
	}
	pk, err := s.kem.NewPublicKey(raw)
	if err != nil {
		return nil, errKey("not a valid public key of its suite")
	}
	enc := publicKeyForm.AppendBinary(make([]byte, 0, keyHeaderSize+len(raw)), string(s.id[:]), raw)
	return &PublicKey{suite: s, pk: pk, enc: enc, id: sha256.Sum256(enc)}, nil
}

// Suite returns the key's suite.
func (k *PublicKey) Suite() *Suite { return k.suite }

// KeyID returns the key's fingerprint.
func (k *PublicKey) KeyID() KeyID { return k.id }

// Equal reports whether k and x are the same public key.
func (k *PublicKey) Equal(x *PublicKey) bool {
	return k.valid() && x.valid() && bytes.Equal(k.enc, x.enc)
}

func (k *PublicKey) valid() bool { return k != nil && k.suite.valid() && k.pk != nil }

// MarshalBinary returns the key's binary encoding (FORMAT.md).
func (k *PublicKey) MarshalBinary() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid public key")
	}
	return bytes.Clone(k.enc), nil
}

// UnmarshalBinary sets k to the public key whose binary encoding is data.
func (k *PublicKey) UnmarshalBinary(data []byte) error {
	s, raw, err := parseKeyBinary(data, publicKeyForm)
	if err != nil {
		return err
	}
	pub, err := newPublicKey(s, raw)
	if err != nil {
		return err
	}
	*k = *pub
	return nil
}

// MarshalText returns the key's text encoding, such as
// "latch_pk_x25519_" followed by base64url (FORMAT.md). It fits in a JSON
// string as it is.
func (k *PublicKey) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid public key")
	}
	return keyform.AppendText(nil, textPrefix(k.suite, false), k.enc), nil
}

// UnmarshalText sets k to the public key whose text encoding is text.
func (k *PublicKey) UnmarshalText(text []byte) error {
	bin, err := publicKeyForm.ParseText(text)
	if err != nil {
		return err
	}
	return k.UnmarshalBinary(bin)
}

// String returns the key's text encoding.
func (k *PublicKey) String() string {
	b, err := k.MarshalText()
	if err != nil {
		return "invalid public key"
	}
	return string(b)
}

// ParsePublicKey parses a public key's text encoding.
func ParsePublicKey(text string) (*PublicKey, error) {
	k := new(PublicKey)
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return nil, err
	}
	return k, nil
}

// Suite returns the key's suite.
func (k *PrivateKey) Suite() *Suite { return k.suite }

// String describes the key without its secret, so that printing or logging
// a PrivateKey by mistake does not leak it. Use [PrivateKey.MarshalText] to
// encode the key.
func (k *PrivateKey) String() string {
	if !k.valid() {
		return "sealedbox.PrivateKey(invalid)"
	}
	return "sealedbox.PrivateKey(" + k.suite.String() + ", key id " + k.pub.id.String()[:16] + "…)"
}

// GoString is String, for the %#v verb.
func (k *PrivateKey) GoString() string { return k.String() }

// PublicKey returns the public half of the key pair.
func (k *PrivateKey) PublicKey() *PublicKey { return k.pub }

// KeyID returns the key id of the public half of the key pair.
func (k *PrivateKey) KeyID() KeyID { return k.pub.id }

func (k *PrivateKey) valid() bool { return k != nil && k.suite.valid() && k.sk != nil && k.pub.valid() }

// MarshalBinary returns the key's binary encoding (FORMAT.md). It holds the
// secret key in the clear.
func (k *PrivateKey) MarshalBinary() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid private key")
	}
	return appendPrivateBinary(nil, k.suite, k.raw), nil
}

func appendPrivateBinary(b []byte, s *Suite, raw []byte) []byte {
	return privateKeyForm.AppendBinary(b, string(s.id[:]), raw)
}

// UnmarshalBinary sets k to the private key whose binary encoding is data.
func (k *PrivateKey) UnmarshalBinary(data []byte) error {
	s, raw, err := parseKeyBinary(data, privateKeyForm)
	if err != nil {
		return err
	}
	priv, err := newPrivateKey(s, raw)
	if err != nil {
		return err
	}
	*k = *priv
	return nil
}

// MarshalText returns the key's text encoding, such as
// "latch_sk_mlkem768x25519_" followed by base64url (FORMAT.md). It holds the
// secret key in the clear.
func (k *PrivateKey) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid private key")
	}
	return keyform.AppendText(nil, textPrefix(k.suite, true), appendPrivateBinary(nil, k.suite, k.raw)), nil
}

// UnmarshalText sets k to the private key whose text encoding is text.
func (k *PrivateKey) UnmarshalText(text []byte) error {
	bin, err := privateKeyForm.ParseText(text)
	if err != nil {
		return err
	}
	return k.UnmarshalBinary(bin)
}

// ParsePrivateKey parses a private key's text encoding.
func ParsePrivateKey(text string) (*PrivateKey, error) {
	k := new(PrivateKey)
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return nil, err
	}
	return k, nil
}

// The forms of the suites' keys.
var (
	publicKeyForm  = keyform.NewSuiteForm(keyErrors, "public", keyform.PublicKeyMagic, keyform.PrivateKeyMagic, "pk", "sk", suiteMLKEM768X25519.pubSize)
	privateKeyForm = keyform.NewSuiteForm(keyErrors, "private", keyform.PrivateKeyMagic, keyform.PublicKeyMagic, "sk", "pk", privSize)
)

// keyErrors are the sentinels of this package's key forms.
var keyErrors = keyform.Errors{Invalid: ErrInvalidKey, Version: errUnsupportedVersion, Algorithm: errUnsupportedSuite}

// maxKeyText is the length of the longest text key encoding of a suite: a
// MLKEM768X25519 public key.
var maxKeyText = publicKeyForm.MaxText()

// parseKeyBinary checks the header of a binary key encoding of a suite and
// returns its suite and KEM key bytes.
func parseKeyBinary(data []byte, f *keyform.Form) (*Suite, []byte, error) {
	i, raw, err := f.ParseBinary(data)
	if err != nil {
		return nil, nil, err
	}
	return suites[i], raw, nil
}

// textPrefix returns the text prefix of the keys of suite s.
func textPrefix(s *Suite, private bool) string {
	if private {
		return privateKeyForm.Prefix(s.name)
	}
	return publicKeyForm.Prefix(s.name)
}
