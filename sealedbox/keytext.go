package sealedbox

import (
	"bytes"
	"strconv"

	"github.com/latchsec/latch/internal/reason"
)

// Text forms of the end-to-end key and of wrapped private keys (FORMAT.md),
// in the family of the other keys' text forms: prefix ‖ base64url(binary ‖
// checksum). The end-to-end key's binary is "LSX" ‖ version ‖ the 32 key
// bytes; a wrapped key's is its own bytes ("LSW" ‖ version ‖ suite id ‖ ...).

var e2eKeyMagic = [3]byte{'L', 'S', 'X'}

const (
	e2eKeyPrefix     = "latch_e2e_"
	e2eKeyBinarySize = 3 + 1 + e2eKeySize
)

// wrappedKeyForm is the text form of wrapped keys: "latch_wk_" ‖ suite name
// ‖ "_" ‖ base64url(wrapped ‖ checksum).
var wrappedKeyForm = suiteKeyForm("wrapped", wrappedMagic, privateKeyMagic, "wk", "sk", wrappedSize-keyHeaderSize)

// E2EKeyText returns the text form of the end-to-end key key, such as
// "latch_e2e_" followed by base64url (FORMAT.md), for a file, a JSON field
// or a secrets manager. A checksum catches a key mistyped or cut short. It
// holds the key in the clear.
func E2EKeyText(key []byte) (string, error) {
	if len(key) != e2eKeySize {
		return "", reason.New(ErrInvalidKey, errE2EKeySize)
	}
	bin := make([]byte, 0, e2eKeyBinarySize)
	bin = append(append(bin, e2eKeyMagic[:]...), keyVersion)
	bin = append(bin, key...)
	return string(appendKeyText(nil, e2eKeyPrefix, bin)), nil
}

// ParseE2EKey parses the text form of an end-to-end key ([E2EKeyText]).
// A text that is not one matches [ErrInvalidKey].
func ParseE2EKey(text string) ([]byte, error) {
	if len(text) > len(e2eKeyPrefix)+b64.EncodedLen(e2eKeyBinarySize+checksumSize) {
		return nil, errKey("end-to-end key text is too long")
	}
	if len(text) < len(e2eKeyPrefix) || text[:len(e2eKeyPrefix)] != e2eKeyPrefix {
		return nil, errKey("not an end-to-end key")
	}
	bin, err := decodeKeyText("end-to-end", e2eKeyPrefix, []byte(text), 4)
	if err != nil {
		return nil, err
	}
	if [3]byte(bin[:3]) != e2eKeyMagic {
		return nil, errKey("not an end-to-end key")
	}
	if bin[3] != keyVersion {
		return nil, reason.New(ErrInvalidKey, errUnsupportedVersion)
	}
	if len(bin) != e2eKeyBinarySize {
		return nil, errKey("end-to-end key is not 32 bytes")
	}
	return bytes.Clone(bin[4:]), nil
}

// WrappedKeyText returns the text form of a wrapped private key made by
// [WrapPrivateKey], such as "latch_wk_mlkem768x25519_" followed by
// base64url (FORMAT.md), for a JSON field or a form. It fails with
// [ErrInvalidKey] if wrapped is not a wrapped key of version 1.
func WrappedKeyText(wrapped []byte) (string, error) {
	i, err := checkWrappedBinary(wrapped)
	if err != nil {
		return "", err
	}
	return string(appendKeyText(nil, wrappedKeyForm.prefix(wrappedKeyForm.names[i]), wrapped)), nil
}

// ParseWrappedKey parses the text form of a wrapped private key
// ([WrappedKeyText]) and returns the wrapped key, for [UnwrapPrivateKey]. A
// text that is not one matches [ErrInvalidKey].
func ParseWrappedKey(text string) ([]byte, error) {
	bin, err := wrappedKeyForm.parseText([]byte(text))
	if err != nil {
		return nil, err
	}
	if _, err := checkWrappedBinary(bin); err != nil {
		return nil, err
	}
	return bin, nil
}

// checkWrappedBinary checks the header and the length of a wrapped key and
// returns the index of its suite.
func checkWrappedBinary(wrapped []byte) (int, error) {
	i, _, err := wrappedKeyForm.parseBinary(wrapped)
	if err != nil {
		return 0, err
	}
	if len(wrapped) != wrappedSize {
		return 0, errKey("wrapped key is not " + strconv.Itoa(wrappedSize) + " bytes")
	}
	return i, nil
}
