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

	"github.com/latchsec/latch/internal/reason"
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
	enc := publicKeyForm.appendBinary(make([]byte, 0, keyHeaderSize+len(raw)), string(s.id[:]), raw)
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
	return appendKeyText(nil, textPrefix(k.suite, false), k.enc), nil
}

// UnmarshalText sets k to the public key whose text encoding is text.
func (k *PublicKey) UnmarshalText(text []byte) error {
	bin, err := publicKeyForm.parseText(text)
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
	return privateKeyForm.appendBinary(b, string(s.id[:]), raw)
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
	return appendKeyText(nil, textPrefix(k.suite, true), appendPrivateBinary(nil, k.suite, k.raw)), nil
}

// UnmarshalText sets k to the private key whose text encoding is text.
func (k *PrivateKey) UnmarshalText(text []byte) error {
	bin, err := privateKeyForm.parseText(text)
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

// A keyForm describes the binary and text encodings of one kind of key
// (FORMAT.md): binary = magic ‖ version ‖ algorithm id ‖ key bytes, and
// text = prefix ‖ base64url(binary ‖ checksum), where the prefix names the
// kind and the algorithm. The encryption keys of the suites and the signing
// keys of the signature schemes are all written and read through one.
type keyForm struct {
	kind         string // in error messages: "public", "private", ...
	magic, other [3]byte
	idSize       int      // bytes of the algorithm id
	names        []string // algorithm names, in text prefixes
	ids          []string // algorithm ids, in the order of names
	textTag      string   // "pk", "sk", ... : the prefix is "latch_" ‖ tag ‖ "_" ‖ name ‖ "_"
	otherTag     string   // textTag of the other kind of key of the same family
	maxText      int      // length of the longest text encoding
}

// newKeyForm returns the form of a kind of key whose algorithms have the
// given names, ids and largest binary encoding.
func newKeyForm(kind string, magic, other [3]byte, tag, otherTag string, names, ids []string, maxBinary int) *keyForm {
	f := &keyForm{kind: kind, magic: magic, other: other, idSize: len(ids[0]), names: names, ids: ids, textTag: tag, otherTag: otherTag}
	longest := 0
	for _, n := range names {
		longest = max(longest, len(f.prefix(n)))
	}
	f.maxText = longest + b64.EncodedLen(maxBinary+checksumSize)
	return f
}

func (f *keyForm) prefix(name string) string      { return "latch_" + f.textTag + "_" + name + "_" }
func (f *keyForm) otherPrefix(name string) string { return "latch_" + f.otherTag + "_" + name + "_" }
func (f *keyForm) headerSize() int                { return 3 + 1 + f.idSize }

// appendBinary appends the binary encoding of key bytes raw of algorithm id.
func (f *keyForm) appendBinary(b []byte, id string, raw []byte) []byte {
	b = append(b, f.magic[:]...)
	b = append(b, keyVersion)
	b = append(b, id...)
	return append(b, raw...)
}

// parseBinary checks the header of a binary key encoding and returns the
// index of its algorithm in f.ids and its key bytes.
func (f *keyForm) parseBinary(data []byte) (int, []byte, error) {
	if len(data) < f.headerSize() {
		return 0, nil, errKey(f.kind + " key is too short")
	}
	switch [3]byte(data[:3]) {
	case f.magic:
	case f.other:
		return 0, nil, errKey("expected a " + f.kind + " key, got the other kind")
	default:
		return 0, nil, errKey("not a " + f.kind + " key")
	}
	if data[3] != keyVersion {
		return 0, nil, reason.New(ErrInvalidKey, errUnsupportedVersion)
	}
	for i, id := range f.ids {
		if string(data[4:f.headerSize()]) == id {
			return i, data[f.headerSize():], nil
		}
	}
	return 0, nil, reason.New(ErrInvalidKey, errUnsupportedSuite)
}

// Text key encodings (FORMAT.md): prefix ‖ base64url(binary ‖ checksum), no
// padding, where checksum is the first 4 bytes of SHA-256(prefix ‖ binary).

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

// parseText checks a text key encoding and returns the binary encoding
// inside it.
func (f *keyForm) parseText(text []byte) ([]byte, error) {
	if len(text) > f.maxText {
		return nil, errKey(f.kind + " key text is too long")
	}
	var prefix, id string
	for i, n := range f.names {
		if p := f.prefix(n); bytes.HasPrefix(text, []byte(p)) {
			prefix, id = p, f.ids[i]
			break
		}
		if bytes.HasPrefix(text, []byte(f.otherPrefix(n))) {
			return nil, errKey("expected a " + f.kind + " key, got the other kind")
		}
	}
	if prefix == "" {
		return nil, errKey("not a " + f.kind + " key of a known " + f.algorithm())
	}
	bin, err := decodeKeyText(f.kind, prefix, text, f.headerSize())
	if err != nil {
		return nil, err
	}
	if string(bin[4:f.headerSize()]) != id {
		return nil, errKey(f.kind + " key text names two different " + f.algorithm() + "s")
	}
	return bin, nil
}

// decodeKeyText checks the base64url and the checksum of text, which
// begins with prefix, and returns the binary encoding inside it, at least
// minBinary bytes long. kind names the key in error messages.
func decodeKeyText(kind, prefix string, text []byte, minBinary int) ([]byte, error) {
	payload, err := b64.AppendDecode(nil, text[len(prefix):])
	if err != nil || len(payload) < minBinary+checksumSize {
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
	return bin, nil
}

func (f *keyForm) algorithm() string {
	if f.idSize == suiteIDSize {
		return "suite"
	}
	return "scheme"
}

// The forms of the suites' keys.
var (
	publicKeyForm  = suiteKeyForm("public", publicKeyMagic, privateKeyMagic, "pk", "sk", suiteMLKEM768X25519.pubSize)
	privateKeyForm = suiteKeyForm("private", privateKeyMagic, publicKeyMagic, "sk", "pk", privSize)
)

func suiteKeyForm(kind string, magic, other [3]byte, tag, otherTag string, maxRaw int) *keyForm {
	var names, ids []string
	for _, s := range suites {
		names, ids = append(names, s.name), append(ids, string(s.id[:]))
	}
	return newKeyForm(kind, magic, other, tag, otherTag, names, ids, keyHeaderSize+maxRaw)
}

// maxKeyText is the length of the longest text key encoding of a suite: a
// MLKEM768X25519 public key.
var maxKeyText = publicKeyForm.maxText

// parseKeyBinary checks the header of a binary key encoding of a suite and
// returns its suite and KEM key bytes.
func parseKeyBinary(data []byte, f *keyForm) (*Suite, []byte, error) {
	i, raw, err := f.parseBinary(data)
	if err != nil {
		return nil, nil, err
	}
	return suites[i], raw, nil
}

// textPrefix returns the text prefix of the keys of suite s.
func textPrefix(s *Suite, private bool) string {
	if private {
		return privateKeyForm.prefix(s.name)
	}
	return publicKeyForm.prefix(s.name)
}
