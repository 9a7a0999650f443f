package sealedbox

import (
	"crypto/rand"

	"github.com/latchsec/latch/internal/reason"
	"golang.org/x/crypto/chacha20poly1305"
)

// e2eKeySize is the size of an end-to-end key: 32 bytes (256 bits).
const e2eKeySize = 32

// GenerateE2EKey returns a new random end-to-end key of 32 bytes, from
// crypto/rand.
//
// An end-to-end key is shared by the person's app and devices and by nobody
// else, least of all the cloud that relays and stores what it protects. How
// it reaches each of them (pairing, QR code, ...) is up to the caller; its
// text form is [E2EKeyText].
func GenerateE2EKey() []byte {
	k := make([]byte, e2eKeySize)
	rand.Read(k)
	return k
}

// Wrapped key layout (FORMAT.md):
//
//	"LSW" ‖ version ‖ suite id (6) ‖ key id (32) ‖ nonce (24) ‖ ciphertext (32+16)
//
// XChaCha20-Poly1305 under the end-to-end key; the additional data is the
// header (everything before the nonce), so the blob is bound to the key id
// of its public key.
var wrappedMagic = [3]byte{'L', 'S', 'W'}

const (
	wrappedVersion    = 1
	wrappedHeaderSize = 3 + 1 + suiteIDSize + len(KeyID{})
	wrappedSize       = wrappedHeaderSize + chacha20poly1305.NonceSizeX + privSize + tagSize
)

// WrapPrivateKey encrypts priv under the end-to-end key e2eKey, so that the
// cloud can store it along with priv's public key without being able to
// use it. The wrapped key is bound to the public key's key id: see
// [UnwrapPrivateKey]. Its text form, for a JSON field, is [WrappedKeyText].
func WrapPrivateKey(e2eKey []byte, priv *PrivateKey) ([]byte, error) {
	if len(e2eKey) != e2eKeySize {
		return nil, reason.New(ErrInvalidKey, errE2EKeySize)
	}
	if !priv.valid() {
		return nil, errKey("WrapPrivateKey with an invalid private key")
	}
	return wrap(e2eKey, priv.suite, priv.pub.id, priv.raw), nil
}

// wrap seals the KEM private key bytes raw under the header of suite s and
// key id id.
func wrap(e2eKey []byte, s *Suite, id KeyID, raw []byte) []byte {
	aead, err := chacha20poly1305.NewX(e2eKey)
	if err != nil {
		panic(err) // the length was checked
	}
	out := make([]byte, wrappedHeaderSize, wrappedSize)
	copy(out, wrappedMagic[:])
	out[3] = wrappedVersion
	copy(out[4:], s.id[:])
	copy(out[4+suiteIDSize:], id[:])
	nonce := out[wrappedHeaderSize : wrappedHeaderSize+aead.NonceSize()]
	out = out[:wrappedHeaderSize+aead.NonceSize()]
	rand.Read(nonce)
	return aead.Seal(out, nonce, raw, out[:wrappedHeaderSize])
}

// UnwrapPrivateKey decrypts a key wrapped by [WrapPrivateKey] under the same
// end-to-end key and returns it, after checking that pub, the public key
// stored along with it, is its public key.
//
// If pub is not the wrapped key's public key, it fails with
// [ErrKeyMismatch]: whoever stored pub swapped it, perhaps for one whose
// private key they hold, so that what is sealed to it would be theirs to
// read. Every other failure matches [ErrOpen].
func UnwrapPrivateKey(e2eKey, wrapped []byte, pub *PublicKey) (*PrivateKey, error) {
	if len(e2eKey) != e2eKeySize {
		return nil, reason.New(ErrInvalidKey, errE2EKeySize)
	}
	if !pub.valid() {
		return nil, errKey("UnwrapPrivateKey with an invalid public key")
	}
	if len(wrapped) < 4 || [3]byte(wrapped[:3]) != wrappedMagic {
		return nil, errOpen(errMalformed)
	}
	if wrapped[3] != wrappedVersion {
		return nil, errOpen(errUnsupportedVersion)
	}
	if len(wrapped) != wrappedSize {
		return nil, errOpen(errMalformed)
	}
	s := suiteByID(wrapped[4 : 4+suiteIDSize])
	if s == nil {
		return nil, errOpen(errUnsupportedSuite)
	}
	if s != pub.suite {
		return nil, reason.New(ErrKeyMismatch, errSuiteMismatch)
	}
	if KeyID(wrapped[4+suiteIDSize:wrappedHeaderSize]) != pub.id {
		return nil, reason.New(ErrKeyMismatch, nil)
	}
	aead, err := chacha20poly1305.NewX(e2eKey)
	if err != nil {
		return nil, reason.Wrap(ErrInvalidKey, errE2EKeySize, err)
	}
	nonce := wrapped[wrappedHeaderSize : wrappedHeaderSize+aead.NonceSize()]
	raw, err := aead.Open(nil, nonce, wrapped[wrappedHeaderSize+aead.NonceSize():], wrapped[:wrappedHeaderSize])
	if err != nil {
		return nil, reason.Newf(ErrOpen, nil, wrappedAuthFailed)
	}
	priv, err := newPrivateKey(s, raw)
	if err != nil {
		return nil, errOpen(errMalformed)
	}
	if !priv.pub.Equal(pub) {
		return nil, reason.New(ErrKeyMismatch, nil)
	}
	return priv, nil
}
