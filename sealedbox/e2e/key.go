package e2e

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"golang.org/x/crypto/chacha20poly1305"
)

// keySize is the size of an end-to-end key: 32 bytes (256 bits).
const keySize = 32

// A Key is an end-to-end key: 256 bits shared by a person's app and
// devices and by nobody else, least of all the cloud that relays and
// stores what it protects. Make one with [GenerateKey] (or [NewKey] for a
// key agreed elsewhere, as the pairing package does); store and send it in
// its text form ([Key.MarshalText], [ParseKey]).
//
// Printing a Key shows no part of it. The zero Key is not a key: every
// function given one fails with [ErrInvalidKey].
type Key struct {
	// b is behind a pointer so that printing a Key value (not a *Key)
	// shows an address, not the key; nil in the zero Key.
	b *[keySize]byte
}

// GenerateKey returns a new random end-to-end key, from crypto/rand.
func GenerateKey() *Key {
	k := &Key{b: new([keySize]byte)}
	rand.Read(k.b[:])
	return k
}

// NewKey returns the end-to-end key whose 32 bytes are b, such as a key
// agreed by a key exchange. It copies b. A b of another length fails with
// [ErrInvalidKey].
func NewKey(b []byte) (*Key, error) {
	if len(b) != keySize {
		return nil, reason.New(ErrInvalidKey, errKeySize)
	}
	k := &Key{b: new([keySize]byte)}
	copy(k.b[:], b)
	return k, nil
}

func (k *Key) valid() bool { return k != nil && k.b != nil }

// aead returns XChaCha20-Poly1305 under the key, which must be valid: what
// wrapped keys and messages are sealed with.
func (k *Key) aead() cipher.AEAD {
	aead, err := chacha20poly1305.NewX(k.b[:])
	if err != nil {
		panic(err) // a Key holds exactly chacha20poly1305.KeySize bytes
	}
	return aead
}

// Equal reports whether k and x are the same key, in constant time.
func (k *Key) Equal(x *Key) bool {
	return k.valid() && x.valid() && subtle.ConstantTimeCompare(k.b[:], x.b[:]) == 1
}

// String describes the key without its secret, so that printing or
// logging a Key by mistake does not leak it. Use [Key.MarshalText] to
// encode the key.
func (k *Key) String() string {
	if !k.valid() {
		return "e2e.Key(invalid)"
	}
	return "e2e.Key(…)"
}

// GoString is String, for the %#v verb.
func (k *Key) GoString() string { return k.String() }

// Text form of the end-to-end key (FORMAT.md), in the family of
// sealedbox's key text forms: "latch_e2e_" ‖ base64url("LSX" ‖ version ‖
// key ‖ checksum).
var keyMagic = [3]byte{'L', 'S', 'X'}

const (
	keyPrefix     = "latch_e2e_"
	keyBinarySize = 3 + 1 + keySize
)

var keyTextSize = len(keyPrefix) + keyform.EncodedLen(keyBinarySize)

// MarshalText returns the key's text form, "latch_e2e_" followed by 54
// characters of base64url (FORMAT.md), for a file, a JSON field or a
// secrets manager. A checksum catches a key mistyped, cut short or pasted
// where another key belongs. It holds the key in the clear.
func (k *Key) MarshalText() ([]byte, error) {
	if !k.valid() {
		return nil, errKey("marshaling an invalid end-to-end key")
	}
	bin := keyform.AppendBinary(make([]byte, 0, keyBinarySize), keyMagic, "", k.b[:])
	defer clear(bin)
	return keyform.AppendText(make([]byte, 0, keyTextSize), keyPrefix, bin), nil
}

// UnmarshalText sets k to the key whose text form is text. A text that is
// not one matches [ErrInvalidKey] and leaves k as it was.
func (k *Key) UnmarshalText(text []byte) error {
	if len(text) > keyTextSize {
		return errKey("end-to-end key text is too long")
	}
	if len(text) < len(keyPrefix) || string(text[:len(keyPrefix)]) != keyPrefix {
		return errKey("not an end-to-end key")
	}
	bin, err := keyform.DecodeText(ErrInvalidKey, "end-to-end", keyPrefix, text, 4)
	if err != nil {
		return err
	}
	defer clear(bin)
	if [3]byte(bin[:3]) != keyMagic {
		return errKey("not an end-to-end key")
	}
	if bin[3] != keyform.Version {
		return reason.New(ErrInvalidKey, errUnsupportedVersion)
	}
	if len(bin) != keyBinarySize {
		return errKey("end-to-end key is not 32 bytes")
	}
	b := new([keySize]byte)
	copy(b[:], bin[4:])
	*k = Key{b: b}
	return nil
}

// ParseKey parses the text form of an end-to-end key ([Key.MarshalText]).
// A text that is not one matches [ErrInvalidKey].
func ParseKey(text string) (*Key, error) {
	k := new(Key)
	if err := k.UnmarshalText([]byte(text)); err != nil {
		return nil, err
	}
	return k, nil
}
