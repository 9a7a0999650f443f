package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"strconv"

	"github.com/latchsec/latch/internal/reason"
)

// EncryptionKey is a key that encrypts TOTP secrets at rest in the
// [Store]: 32 bytes for AES-256-GCM, from crypto/rand, kept outside the
// store (a secrets manager, a KMS, the environment). ID names it in every
// encrypted secret so that keys can be rotated: 1 to 64 printable ASCII
// characters, unique within a Config.
type EncryptionKey struct {
	ID  string
	Key []byte
}

// encrypter encrypts with its first key and decrypts with any of them.
type encrypter struct {
	active string
	aeads  map[string]cipher.AEAD
	ids    map[string]string // each key id, by itself: decrypt returns it without allocating
}

func newEncrypter(keys []EncryptionKey) (*encrypter, error) {
	if len(keys) == 0 {
		return nil, invalidConfig("no EncryptionKeys")
	}
	e := &encrypter{active: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys)), ids: make(map[string]string, len(keys))}
	for i, k := range keys {
		if !validKeyID(k.ID) {
			return nil, invalidConfig("EncryptionKeys[%d]: ID must be 1 to %d printable ASCII characters", i, maxKeyIDBytes)
		}
		if len(k.Key) != encryptionKeyBytes {
			return nil, invalidConfig("EncryptionKeys %q: %d bytes, want %d", k.ID, len(k.Key), encryptionKeyBytes)
		}
		if _, dup := e.aeads[k.ID]; dup {
			return nil, invalidConfig("EncryptionKeys: ID %q given twice", k.ID)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, reason.Wrap(ErrInvalidConfig, nil, err)
		}
		if e.aeads[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, reason.Wrap(ErrInvalidConfig, nil, err)
		}
		e.ids[k.ID] = k.ID
	}
	return e, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > maxKeyIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// An encrypted secret (Record.Secret, NextKey.Secret) is
//
//	version (1 byte, 1) || len(key id) (1 byte) || key id || nonce (12 bytes) || AES-256-GCM ciphertext and tag
//
// The additional data binds it to its account and parameters:
//
//	"latch.totp.secret.v1" || 0x00 || version || len(key id) || key id || algorithm (1 byte) || digits (1 byte) || len(account) (2 bytes, big endian) || account
//
// so an encrypted secret copied into another account's record, or a record
// whose algorithm or digits were changed, does not decrypt. The format is
// the one of the releases that called these keys sealing keys: records
// written then decrypt now.
const (
	secretVersion = 1
	secretLabel   = "latch.totp.secret.v1"
	nonceSize     = 12
)

func secretAD(header []byte, account string, alg Algorithm, digits int) []byte {
	ad := make([]byte, 0, len(secretLabel)+1+len(header)+4+len(account))
	ad = append(ad, secretLabel...)
	ad = append(ad, 0)
	ad = append(ad, header...)
	ad = append(ad, byte(alg), byte(digits))
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(account)))
	return append(ad, account...)
}

// encrypt returns secret encrypted under the first key, for account.
func (e *encrypter) encrypt(account string, alg Algorithm, digits int, secret []byte) []byte {
	aead := e.aeads[e.active]
	out := make([]byte, 0, 2+len(e.active)+nonceSize+len(secret)+aead.Overhead())
	out = append(out, secretVersion, byte(len(e.active)))
	out = append(out, e.active...)
	header := out
	out = out[:len(out)+nonceSize]
	nonce := out[len(header):]
	rand.Read(nonce) // never fails (crypto/rand)
	return aead.Seal(out, nonce, secret, secretAD(header, account, alg, digits))
}

// decrypt returns the secret and the id of the key that encrypted it.
func (e *encrypter) decrypt(account string, alg Algorithm, digits int, encrypted []byte) (secret []byte, keyID string, err error) {
	if len(encrypted) < 2 || encrypted[0] != secretVersion || len(encrypted) < 2+int(encrypted[1])+nonceSize {
		return nil, "", unreadable("not an encrypted secret of a known version")
	}
	n := 2 + int(encrypted[1])
	keyID, ok := e.ids[string(encrypted[2:n])]
	if !ok {
		return nil, "", unreadable("encrypted under a key id not in EncryptionKeys")
	}
	aead := e.aeads[keyID]
	secret, err = aead.Open(nil, encrypted[n:n+nonceSize], encrypted[n+nonceSize:], secretAD(encrypted[:n], account, alg, digits))
	if err != nil {
		return nil, "", unreadable("key " + strconv.Quote(keyID) + " does not decrypt it for this account")
	}
	return secret, keyID, nil
}
