package e2e

import (
	"crypto/rand"
	"strconv"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"golang.org/x/crypto/chacha20poly1305"
)

// Wrapped key layout (FORMAT.md):
//
//	"LSW" ‖ version ‖ suite id (6) ‖ key id (32) ‖ nonce (24) ‖ ciphertext (32+16)
//
// XChaCha20-Poly1305 under the end-to-end key; the additional data is the
// header (everything before the nonce), so the blob is bound to the key id
// of its public key. Its text form is "latch_wk_" ‖ suite name ‖ "_" ‖
// base64url(wrapped ‖ checksum), in the family of sealedbox's keys.
var wrappedMagic = [3]byte{'L', 'S', 'W'}

const (
	keyIDSize         = len(sealedbox.KeyID{})
	wrappedHeaderSize = keyform.SuiteHeaderSize + keyIDSize
	wrappedSize       = wrappedHeaderSize + chacha20poly1305.NonceSizeX + keyform.PrivateKeySize + chacha20poly1305.Overhead
)

var wrappedForm = keyform.NewSuiteForm(keyErrors, "wrapped", wrappedMagic, keyform.PrivateKeyMagic, "wk", "sk", wrappedSize-keyform.SuiteHeaderSize)

// keyErrors are the sentinels of this package's key forms.
var keyErrors = keyform.Errors{Invalid: ErrInvalidKey, Version: errUnsupportedVersion, Algorithm: errUnsupportedSuite}

// WrapPrivateKey encrypts priv under the end-to-end key key, so that the
// cloud can store it along with priv's public key without being able to
// use it, and returns it in text form, such as "latch_wk_mlkem768x25519_"
// followed by base64url (FORMAT.md), for a JSON field or a database
// column. The wrapped key is bound to the public key's key id: see
// [UnwrapPrivateKey].
func WrapPrivateKey(key *Key, priv *sealedbox.PrivateKey) (string, error) {
	if !key.valid() {
		return "", errKey("WrapPrivateKey with an invalid end-to-end key")
	}
	bin, err := priv.MarshalBinary()
	if err != nil {
		return "", errKey("WrapPrivateKey with an invalid private key")
	}
	defer clear(bin)
	suite, raw := string(bin[4:keyform.SuiteHeaderSize]), bin[keyform.SuiteHeaderSize:]
	name := keyform.SuiteName(suite)
	if name == "" {
		return "", errKey("WrapPrivateKey with a private key of an unknown suite")
	}
	return string(wrappedForm.AppendText(nil, name, wrap(key, suite, priv.KeyID(), raw))), nil
}

// wrap seals the KEM private key bytes raw under the header of the suite
// with id suite and the key id id.
func wrap(key *Key, suite string, id sealedbox.KeyID, raw []byte) []byte {
	aead := key.aead()
	out := keyform.AppendBinary(make([]byte, 0, wrappedSize), wrappedMagic, suite, id[:])
	nonce := out[wrappedHeaderSize : wrappedHeaderSize+aead.NonceSize()]
	out = out[:wrappedHeaderSize+aead.NonceSize()]
	rand.Read(nonce)
	return aead.Seal(out, nonce, raw, out[:wrappedHeaderSize])
}

// UnwrapPrivateKey decrypts a key wrapped by [WrapPrivateKey] under the
// same end-to-end key and returns it, after checking that pub, the public
// key stored along with it, is its public key.
//
// If pub is not the wrapped key's public key, it fails with
// [ErrKeyMismatch]: whoever stored pub swapped it, perhaps for one whose
// private key they hold, so that what is sealed to it would be theirs to
// read. A text that is not a wrapped key matches [ErrInvalidKey]; every
// other failure matches [ErrOpen].
func UnwrapPrivateKey(key *Key, wrapped string, pub *sealedbox.PublicKey) (*sealedbox.PrivateKey, error) {
	if !key.valid() {
		return nil, errKey("UnwrapPrivateKey with an invalid end-to-end key")
	}
	pubBin, err := pub.MarshalBinary()
	if err != nil {
		return nil, errKey("UnwrapPrivateKey with an invalid public key")
	}
	w, err := parseWrapped(wrapped)
	if err != nil {
		return nil, err
	}
	suite := w[4:keyform.SuiteHeaderSize]
	if string(suite) != string(pubBin[4:keyform.SuiteHeaderSize]) {
		return nil, reason.New(ErrKeyMismatch, errSuiteMismatch)
	}
	if sealedbox.KeyID(w[keyform.SuiteHeaderSize:wrappedHeaderSize]) != pub.KeyID() {
		return nil, reason.New(ErrKeyMismatch, nil)
	}
	aead := key.aead()
	nonce := w[wrappedHeaderSize : wrappedHeaderSize+aead.NonceSize()]
	raw, err := aead.Open(nil, nonce, w[wrappedHeaderSize+aead.NonceSize():], w[:wrappedHeaderSize])
	if err != nil {
		return nil, reason.Newf(ErrOpen, nil, wrappedAuthFailed)
	}
	bin := keyform.AppendBinary(nil, keyform.PrivateKeyMagic, string(suite), raw)
	clear(raw)
	defer clear(bin)
	priv := new(sealedbox.PrivateKey)
	if err := priv.UnmarshalBinary(bin); err != nil {
		return nil, errOpen(errMalformed)
	}
	if !priv.PublicKey().Equal(pub) {
		return nil, reason.New(ErrKeyMismatch, nil)
	}
	return priv, nil
}

// parseWrapped checks the text form of a wrapped key and returns the
// wrapped key inside it.
func parseWrapped(text string) ([]byte, error) {
	bin, err := wrappedForm.ParseText([]byte(text))
	if err != nil {
		return nil, err
	}
	if _, _, err := wrappedForm.ParseBinary(bin); err != nil {
		return nil, err
	}
	if len(bin) != wrappedSize {
		return nil, errKey("wrapped key is not " + strconv.Itoa(wrappedSize) + " bytes")
	}
	return bin, nil
}
