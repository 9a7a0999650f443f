package sealedbox

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
)

var ecdhX25519 = ecdh.X25519()

// Binary key encodings (FORMAT.md): a 3-byte magic, the format version, the
// 6-byte suite id, then the key bytes of the KEM.
var (
	publicKeyMagic  = [3]byte{'L', 'S', 'P'}
	privateKeyMagic = [3]byte{'L', 'S', 'S'}
)

const (
	keyVersion    = 1
	keyHeaderSize = 3 + 1 + suiteIDSize
	checksumSize  = 4
)

// A KeyID is the fingerprint of a public key: SHA-256 of the public key's
// binary encoding. Envelopes carry the key id of their recipient, and a
// wrapped private key carries the key id of its public key.
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
// wrapped ([WrapPrivateKey]) or in a place as safe as the plaintexts it opens.
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
		return nil, errors.New("sealedbox: GenerateKey on an invalid suite")
	}
	var raw []byte
	switch s {
	case suiteX25519:
		k, err := ecdhX25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		raw = k.Bytes()
	case suiteMLKEM768X25519:
		sk, err := s.kem.GenerateKey()
		if err != nil {
			return nil, err
		}
		if raw, err = sk.Bytes(); err != nil {
			return nil, err
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
	enc := make([]byte, 0, keyHeaderSize+len(raw))
	enc = append(enc, publicKeyMagic[:]...)
	enc = append(enc, keyVersion)
	enc = append(enc, s.id[:]...)
	enc = append(enc, raw...)
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
func (k *PublicKey) MarshalBinary() ([]byte, error) { return k.AppendBinary(nil) }

// AppendBinary appends the key's binary encoding to b.
func (k *PublicKey) AppendBinary(b []byte) ([]byte, error) {
	if !k.valid() {
		return nil, errors.New("sealedbox: marshaling an invalid public key")
	}
	return append(b, k.enc...), nil
}

// UnmarshalBinary sets k to the public key whose binary encoding is data.
func (k *PublicKey) UnmarshalBinary(data []byte) error {
	s, raw, err := parseKeyBinary(data, publicKeyMagic, privateKeyMagic, "public")
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
func (k *PublicKey) MarshalText() ([]byte, error) { return k.AppendText(nil) }

// AppendText appends the key's text encoding to b.
func (k *PublicKey) AppendText(b []byte) ([]byte, error) {
	if !k.valid() {
		return nil, errors.New("sealedbox: marshaling an invalid public key")
	}
	return appendKeyText(b, textPrefix(k.suite, false), k.enc), nil
}

// UnmarshalText sets k to the public key whose text encoding is text.
func (k *PublicKey) UnmarshalText(text []byte) error {
	bin, err := parseKeyText(text, false)
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
func (k *PrivateKey) MarshalBinary() ([]byte, error) { return k.AppendBinary(nil) }

// AppendBinary appends the key's binary encoding to b.
func (k *PrivateKey) AppendBinary(b []byte) ([]byte, error) {
	if !k.valid() {
		return nil, errors.New("sealedbox: marshaling an invalid private key")
	}
	return appendPrivateBinary(b, k.suite, k.raw), nil
}

func appendPrivateBinary(b []byte, s *Suite, raw []byte) []byte {
	b = append(b, privateKeyMagic[:]...)
	b = append(b, keyVersion)
	b = append(b, s.id[:]...)
	return append(b, raw...)
}

// UnmarshalBinary sets k to the private key whose binary encoding is data.
func (k *PrivateKey) UnmarshalBinary(data []byte) error {
	s, raw, err := parseKeyBinary(data, privateKeyMagic, publicKeyMagic, "private")
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
func (k *PrivateKey) MarshalText() ([]byte, error) { return k.AppendText(nil) }

// AppendText appends the key's text encoding to b.
func (k *PrivateKey) AppendText(b []byte) ([]byte, error) {
	if !k.valid() {
		return nil, errors.New("sealedbox: marshaling an invalid private key")
	}
	return appendKeyText(b, textPrefix(k.suite, true), appendPrivateBinary(nil, k.suite, k.raw)), nil
}

// UnmarshalText sets k to the private key whose text encoding is text.
func (k *PrivateKey) UnmarshalText(text []byte) error {
	bin, err := parseKeyText(text, true)
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

// parseKeyBinary checks the header of a binary key encoding and returns its
// suite and KEM key bytes. other is the magic of the other kind of key, to
// say what was pasted instead.
func parseKeyBinary(data []byte, magic, other [3]byte, kind string) (*Suite, []byte, error) {
	if len(data) < keyHeaderSize {
		return nil, nil, errKey(kind + " key is too short")
	}
	switch [3]byte(data[:3]) {
	case magic:
	case other:
		return nil, nil, errKey("expected a " + kind + " key, got the other kind")
	default:
		return nil, nil, errKey("not a " + kind + " key")
	}
	if data[3] != keyVersion {
		return nil, nil, &reasonError{ErrInvalidKey, ErrUnsupportedVersion}
	}
	s := suiteByID(data[4:keyHeaderSize])
	if s == nil {
		return nil, nil, &reasonError{ErrInvalidKey, ErrUnsupportedSuite}
	}
	return s, data[keyHeaderSize:], nil
}

// Text key encodings (FORMAT.md): prefix ‖ base64url(binary ‖ checksum), no
// padding, where checksum is the first 4 bytes of SHA-256(prefix ‖ binary).

func textPrefix(s *Suite, private bool) string {
	if private {
		return "latch_sk_" + s.name + "_"
	}
	return "latch_pk_" + s.name + "_"
}

var b64 = base64.RawURLEncoding.Strict()

func keyChecksum(prefix string, bin []byte) []byte {
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write(bin)
	return h.Sum(nil)[:checksumSize]
}

func appendKeyText(b []byte, prefix string, bin []byte) []byte {
	b = append(b, prefix...)
	payload := append(bytes.Clone(bin), keyChecksum(prefix, bin)...)
	return b64.AppendEncode(b, payload)
}

// maxKeyText is the length of the longest text key encoding: a MLKEM768X25519
// public key.
var maxKeyText = len(textPrefix(suiteMLKEM768X25519, false)) +
	b64.EncodedLen(keyHeaderSize+suiteMLKEM768X25519.pubSize+checksumSize)

// parseKeyText checks a text key encoding and returns the binary encoding
// inside it.
func parseKeyText(text []byte, private bool) ([]byte, error) {
	kind := "public"
	if private {
		kind = "private"
	}
	if len(text) > maxKeyText {
		return nil, errKey(kind + " key text is too long")
	}
	var prefix string
	var suite *Suite
	for _, s := range suites {
		if p := textPrefix(s, private); bytes.HasPrefix(text, []byte(p)) {
			prefix, suite = p, s
			break
		}
		if bytes.HasPrefix(text, []byte(textPrefix(s, !private))) {
			return nil, errKey("expected a " + kind + " key, got the other kind")
		}
	}
	if suite == nil {
		return nil, errKey("not a " + kind + " key of a known suite")
	}
	payload, err := b64.AppendDecode(nil, text[len(prefix):])
	if err != nil || len(payload) < keyHeaderSize+checksumSize {
		return nil, errKey(kind + " key text is not valid base64url")
	}
	// The decoder skips CR and LF; require the one canonical form.
	if !bytes.Equal(b64.AppendEncode(nil, payload), text[len(prefix):]) {
		return nil, errKey(kind + " key text is not canonical base64url")
	}
	bin, sum := payload[:len(payload)-checksumSize], payload[len(payload)-checksumSize:]
	if subtle.ConstantTimeCompare(sum, keyChecksum(prefix, bin)) != 1 {
		return nil, errKey(kind + " key text has a bad checksum")
	}
	if len(bin) < keyHeaderSize || string(bin[4:keyHeaderSize]) != string(suite.id[:]) {
		return nil, errKey(kind + " key text names two different suites")
	}
	return bin, nil
}
