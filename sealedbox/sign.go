package sealedbox

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
)

// A SignatureScheme is one of the two signature schemes of signing keys.
// Schemes are values returned by [MLDSA65Ed25519] and [Ed25519]; there is no
// other way to make one.
type SignatureScheme struct {
	name     string // as in key text encodings, lower case
	id       [schemeIDSize]byte
	seedSize int // signing key bytes
	pubSize  int // verifying key bytes
	sigSize  int // signature bytes
}

const schemeIDSize = 2

var (
	schemeMLDSA65Ed25519 = &SignatureScheme{name: "mldsa65ed25519", id: [2]byte{0x00, 0x01},
		seedSize: mldsa65.SeedSize + ed25519.SeedSize,
		pubSize:  mldsa65.PublicKeySize + ed25519.PublicKeySize,
		sigSize:  mldsa65.SignatureSize + ed25519.SignatureSize}
	schemeEd25519 = &SignatureScheme{name: "ed25519", id: [2]byte{0x00, 0x02},
		seedSize: ed25519.SeedSize, pubSize: ed25519.PublicKeySize, sigSize: ed25519.SignatureSize}
)

// schemes lists every supported scheme, the default first.
var schemes = []*SignatureScheme{schemeMLDSA65Ed25519, schemeEd25519}

// MLDSA65Ed25519 returns the default signature scheme and the one to use:
// every signature is an ML-DSA-65 signature (FIPS 204) and an Ed25519
// signature (RFC 8032) of the same message, and both must verify. A
// signature stays unforgeable as long as either ML-DSA-65 or Ed25519 holds.
func MLDSA65Ed25519() *SignatureScheme { return schemeMLDSA65Ed25519 }

// Ed25519 returns the classical scheme Ed25519 (RFC 8032) alone. Its
// signatures are 3309 bytes smaller and its verifying keys 1952 bytes
// smaller than those of [MLDSA65Ed25519], and a quantum computer able to
// break Ed25519 could forge them: use it only where the size matters and a
// forgery years from now does not.
func Ed25519() *SignatureScheme { return schemeEd25519 }

// String returns the scheme's name, "MLDSA65Ed25519" or "Ed25519".
func (s *SignatureScheme) String() string {
	switch s {
	case schemeMLDSA65Ed25519:
		return "MLDSA65Ed25519"
	case schemeEd25519:
		return "Ed25519"
	}
	return "invalid signature scheme"
}

// Overhead returns how many bytes a signed envelope ([SealSigned]) adds to
// an envelope of the same plaintext made by [Seal]: the scheme id, the
// signer's key id and the signature. 3407 for MLDSA65Ed25519, 98 for
// Ed25519.
func (s *SignatureScheme) Overhead() int { return schemeIDSize + len(KeyID{}) + s.sigSize }

func (s *SignatureScheme) valid() bool { return s == schemeMLDSA65Ed25519 || s == schemeEd25519 }

func schemeByID(id []byte) *SignatureScheme {
	for _, s := range schemes {
		if string(s.id[:]) == string(id) {
			return s
		}
	}
	return nil
}

// Binary encodings of signing keys (FORMAT.md), as those of the suites'
// keys with another magic and a 2-byte scheme id.
var (
	verifyingKeyMagic = [3]byte{'L', 'S', 'V'}
	signingKeyMagic   = [3]byte{'L', 'S', 'K'}
)

var (
	verifyingKeyForm = schemeKeyForm("verifying", verifyingKeyMagic, signingKeyMagic, "vk", "sigk", schemeMLDSA65Ed25519.pubSize)
	signingKeyForm   = schemeKeyForm("signing", signingKeyMagic, verifyingKeyMagic, "sigk", "vk", schemeMLDSA65Ed25519.seedSize)
)

func schemeKeyForm(kind string, magic, other [3]byte, tag, otherTag string, maxRaw int) *keyform.Form {
	var names, ids []string
	for _, s := range schemes {
		names, ids = append(names, s.name), append(ids, string(s.id[:]))
	}
	return keyform.New(keyErrors, kind, magic, other, tag, otherTag, names, ids, 3+1+schemeIDSize+maxRaw)
}

// A VerifyingKey checks the signatures of one [SigningKey]. Its key id
// ([VerifyingKey.KeyID]) names the signer: [OpenSigned] returns it.
//
// Its encodings name the scheme, as those of [PublicKey] name the suite.
// The zero VerifyingKey is not a key; use [ParseVerifyingKey],
// [VerifyingKey.UnmarshalText] or [VerifyingKey.UnmarshalBinary] to fill one.
type VerifyingKey struct {
	scheme *SignatureScheme
	ml     *mldsa65.PublicKey // MLDSA65Ed25519 only
	ed     ed25519.PublicKey
	enc    []byte // binary encoding
	id     KeyID
}

// A SigningKey signs what [SealSigned] seals. Generate one with
// [GenerateSigningKey]; keep it where only the signer can use it.
//
// Its encodings are those of [VerifyingKey] with another magic and prefix;
// they hold the secret key in the clear. The zero SigningKey is not a key.
type SigningKey struct {
	scheme *SignatureScheme
	seed   []byte // as encoded
	ml     *mldsa65.PrivateKey
	ed     ed25519.PrivateKey
	pub    *VerifyingKey
}

// GenerateSigningKey returns a new signing key of the default scheme,
// [MLDSA65Ed25519]. Its randomness comes from crypto/rand.
func GenerateSigningKey() (*SigningKey, error) { return schemeMLDSA65Ed25519.GenerateSigningKey() }

// GenerateSigningKey returns a new signing key of scheme s. Its randomness
// comes from crypto/rand.
func (s *SignatureScheme) GenerateSigningKey() (*SigningKey, error) {
	if !s.valid() {
		return nil, errKey("GenerateSigningKey on an invalid signature scheme")
	}
	seed := make([]byte, s.seedSize)
	rand.Read(seed)
	return newSigningKey(s, seed)
}

// newSigningKey returns the signing key of scheme s whose seed is seed: the
// ML-DSA-65 key generation seed (ξ of FIPS 204) followed by the Ed25519
// private key seed (RFC 8032) for MLDSA65Ed25519, the Ed25519 seed alone for
// Ed25519.
func newSigningKey(s *SignatureScheme, seed []byte) (*SigningKey, error) {
	if len(seed) != s.seedSize {
		return nil, errKey("signing key has the wrong length")
	}
	k := &SigningKey{scheme: s, seed: bytes.Clone(seed)}
	var raw []byte
	edSeed := seed
	if s == schemeMLDSA65Ed25519 {
		var pub *mldsa65.PublicKey
		pub, k.ml = mldsa65.NewKeyFromSeed((*[mldsa65.SeedSize]byte)(seed[:mldsa65.SeedSize]))
		raw = pub.Bytes()
		edSeed = seed[mldsa65.SeedSize:]
	}
	k.ed = ed25519.NewKeyFromSeed(edSeed)
	raw = append(raw, k.ed.Public().(ed25519.PublicKey)...)
	pub, err := newVerifyingKey(s, raw)
	if err != nil {
		return nil, err
	}
	k.pub = pub
	return k, nil
}

func newVerifyingKey(s *SignatureScheme, raw []byte) (*VerifyingKey, error) {
	if len(raw) != s.pubSize {
		return nil, errKey("verifying key has the wrong length")
	}
	k := &VerifyingKey{scheme: s, ed: ed25519.PublicKey(bytes.Clone(raw[len(raw)-ed25519.PublicKeySize:]))}
	if s == schemeMLDSA65Ed25519 {
		k.ml = new(mldsa65.PublicKey)
		// Every string of the right length is an ML-DSA-65 public key.
		if err := k.ml.UnmarshalBinary(raw[:mldsa65.PublicKeySize]); err != nil {
			return nil, errKey("not a valid verifying key of its scheme")
		}
	}
	k.enc = verifyingKeyForm.AppendBinary(nil, string(s.id[:]), raw)
	k.id = sha256.Sum256(k.enc)
	return k, nil
}

// sign returns the signature of scheme k.scheme over msg: the ML-DSA-65
// signature (hedged, with an empty FIPS 204 context string) followed by the
// Ed25519 signature, or the Ed25519 signature alone.
func (k *SigningKey) sign(msg []byte) ([]byte, error) {
	sig := make([]byte, 0, k.scheme.sigSize)
	if k.ml != nil {
		sig = sig[:mldsa65.SignatureSize]
		if err := mldsa65.SignTo(k.ml, msg, nil, true, sig); err != nil {
			return nil, err
		}
	}
	return append(sig, ed25519.Sign(k.ed, msg)...), nil
}

// verify reports whether sig is a valid signature of k over msg: for
// MLDSA65Ed25519, both the ML-DSA-65 and the Ed25519 signature must verify.
func (k *VerifyingKey) verify(msg, sig []byte) bool {
	if len(sig) != k.scheme.sigSize {
		return false
	}
	ok := true
	if k.ml != nil {
		ok = mldsa65.Verify(k.ml, msg, nil, sig[:mldsa65.SignatureSize])
		sig = sig[mldsa65.SignatureSize:]
	}
	// Both are checked whatever the first gave; the inputs are public.
	return ed25519.Verify(k.ed, msg, sig) && ok
}

// Scheme returns the key's signature scheme.
func (k *VerifyingKey) Scheme() *SignatureScheme { return k.scheme }

// KeyID returns the key's fingerprint: SHA-256 of its binary encoding.
func (k *VerifyingKey) KeyID() KeyID { return k.id }

// Equal reports whether k and x are the same verifying key.
func (k *VerifyingKey) Equal(x *VerifyingKey) bool {
	return k.valid() && x.valid() && bytes.Equal(k.enc, x.enc)
}

func (k *VerifyingKey) valid() bool { return k != nil && k.scheme.valid() && k.ed != nil }

// MarshalBinary returns the key's binary encoding (FORMAT.md).
func (k *VerifyingKey) MarshalBinary() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid verifying key")
	}
	return bytes.Clone(k.enc), nil
}

// UnmarshalBinary sets k to the verifying key whose binary encoding is data.
func (k *VerifyingKey) UnmarshalBinary(data []byte) error {
	i, raw, err := verifyingKeyForm.ParseBinary(data)
	if err != nil {
		return err
	}
	v, err := newVerifyingKey(schemes[i], raw)
	if err != nil {
		return err
	}
	*k = *v
	return nil
}

// MarshalText returns the key's text encoding, such as
// "latch_vk_mldsa65ed25519_" followed by base64url (FORMAT.md). It fits in
// a JSON string as it is.
func (k *VerifyingKey) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid verifying key")
	}
	return keyform.AppendText(nil, verifyingKeyForm.Prefix(k.scheme.name), k.enc), nil
}

// UnmarshalText sets k to the verifying key whose text encoding is text.
func (k *VerifyingKey) UnmarshalText(text []byte) error {
	bin, err := verifyingKeyForm.ParseText(text)
	if err != nil {
		return err
	}
	return k.UnmarshalBinary(bin)
}

// String returns the key's text encoding.
func (k *VerifyingKey) String() string {
	b, err := k.MarshalText()
	if err != nil {
		return "invalid verifying key"
	}
	return string(b)
}

// ParseVerifyingKey parses a verifying key's text encoding.
func ParseVerifyingKey(text string) (*VerifyingKey, error) {
	k := new(VerifyingKey)
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return nil, err
	}
	return k, nil
}

// Scheme returns the key's signature scheme.
func (k *SigningKey) Scheme() *SignatureScheme { return k.scheme }

// VerifyingKey returns the key that checks k's signatures.
func (k *SigningKey) VerifyingKey() *VerifyingKey { return k.pub }

// KeyID returns the key id of k's verifying key.
func (k *SigningKey) KeyID() KeyID { return k.pub.id }

// String describes the key without its secret, so that printing or logging
// a SigningKey by mistake does not leak it. Use [SigningKey.MarshalText] to
// encode the key.
func (k *SigningKey) String() string {
	if !k.valid() {
		return "sealedbox.SigningKey(invalid)"
	}
	return "sealedbox.SigningKey(" + k.scheme.String() + ", key id " + k.pub.id.String()[:16] + "…)"
}

// GoString is String, for the %#v verb.
func (k *SigningKey) GoString() string { return k.String() }

func (k *SigningKey) valid() bool {
	return k != nil && k.scheme.valid() && k.ed != nil && k.pub.valid()
}

// MarshalBinary returns the key's binary encoding (FORMAT.md). It holds the
// secret key in the clear.
func (k *SigningKey) MarshalBinary() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid signing key")
	}
	return signingKeyForm.AppendBinary(nil, string(k.scheme.id[:]), k.seed), nil
}

// UnmarshalBinary sets k to the signing key whose binary encoding is data.
func (k *SigningKey) UnmarshalBinary(data []byte) error {
	i, raw, err := signingKeyForm.ParseBinary(data)
	if err != nil {
		return err
	}
	v, err := newSigningKey(schemes[i], raw)
	if err != nil {
		return err
	}
	*k = *v
	return nil
}

// MarshalText returns the key's text encoding, such as
// "latch_sigk_mldsa65ed25519_" followed by base64url (FORMAT.md). It holds
// the secret key in the clear.
func (k *SigningKey) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid signing key")
	}
	return keyform.AppendText(nil, signingKeyForm.Prefix(k.scheme.name), signingKeyForm.AppendBinary(nil, string(k.scheme.id[:]), k.seed)), nil
}

// UnmarshalText sets k to the signing key whose text encoding is text.
func (k *SigningKey) UnmarshalText(text []byte) error {
	bin, err := signingKeyForm.ParseText(text)
	if err != nil {
		return err
	}
	return k.UnmarshalBinary(bin)
}

// ParseSigningKey parses a signing key's text encoding.
func ParseSigningKey(text string) (*SigningKey, error) {
	k := new(SigningKey)
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return nil, err
	}
	return k, nil
}
