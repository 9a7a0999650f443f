package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// SealingKey is a key that seals secrets at rest: 32 bytes for AES-256-GCM,
// from crypto/rand, kept outside the store (a secrets manager, a KMS, the
// environment). ID names it in every sealed secret so that keys can be
// rotated: 1 to 64 printable ASCII characters, unique within a Config.
type SealingKey struct {
	ID  string
	Key []byte
}

// sealer seals with its first key and opens with any of them.
type sealer struct {
	active string
	aeads  map[string]cipher.AEAD
	ids    map[string]string // each key id, by itself: open returns it without allocating
}

func newSealer(keys []SealingKey) (*sealer, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no sealing key", ErrInvalidConfig)
	}
	s := &sealer{active: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys)), ids: make(map[string]string, len(keys))}
	for i, k := range keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("%w: sealing key %d: id must be 1 to %d printable ASCII characters", ErrInvalidConfig, i, maxKeyIDBytes)
		}
		if len(k.Key) != sealingKeyBytes {
			return nil, fmt.Errorf("%w: sealing key %q: %d bytes, want %d", ErrInvalidConfig, k.ID, len(k.Key), sealingKeyBytes)
		}
		if _, dup := s.aeads[k.ID]; dup {
			return nil, fmt.Errorf("%w: sealing key id %q given twice", ErrInvalidConfig, k.ID)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, err
		}
		if s.aeads[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
		s.ids[k.ID] = k.ID
	}
	return s, nil
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

// A sealed secret is
//
//	version (1 byte, 1) || len(key id) (1 byte) || key id || nonce (12 bytes) || AES-256-GCM ciphertext and tag
//
// The additional data binds it to its account and parameters:
//
//	"latch.totp.secret.v1" || 0x00 || version || len(key id) || key id || algorithm (1 byte) || digits (1 byte) || len(account) (2 bytes, big endian) || account
//
// so a sealed secret copied into another account's record, or a record
// whose algorithm or digits were changed, does not open.
const (
	sealVersion = 1
	sealLabel   = "latch.totp.secret.v1"
	nonceSize   = 12
)

func sealAD(header []byte, account string, alg Algorithm, digits int) []byte {
	ad := make([]byte, 0, len(sealLabel)+1+len(header)+4+len(account))
	ad = append(ad, sealLabel...)
	ad = append(ad, 0)
	ad = append(ad, header...)
	ad = append(ad, byte(alg), byte(digits))
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(account)))
	return append(ad, account...)
}

func (s *sealer) seal(account string, alg Algorithm, digits int, secret []byte) ([]byte, error) {
	aead := s.aeads[s.active]
	out := make([]byte, 0, 2+len(s.active)+nonceSize+len(secret)+aead.Overhead())
	out = append(out, sealVersion, byte(len(s.active)))
	out = append(out, s.active...)
	header := out
	out = out[:len(out)+nonceSize]
	if _, err := rand.Read(out[len(header):]); err != nil {
		return nil, err
	}
	nonce := out[len(header):]
	return aead.Seal(out, nonce, secret, sealAD(header, account, alg, digits)), nil
}

// open returns the secret and the id of the key that sealed it.
func (s *sealer) open(account string, alg Algorithm, digits int, sealed []byte) (secret []byte, keyID string, err error) {
	if len(sealed) < 2 || sealed[0] != sealVersion || len(sealed) < 2+int(sealed[1])+nonceSize {
		return nil, "", ErrSecretUnreadable
	}
	n := 2 + int(sealed[1])
	keyID, ok := s.ids[string(sealed[2:n])]
	if !ok {
		return nil, "", ErrSecretUnreadable
	}
	aead := s.aeads[keyID]
	secret, err = aead.Open(nil, sealed[n:n+nonceSize], sealed[n+nonceSize:], sealAD(sealed[:n], account, alg, digits))
	if err != nil {
		return nil, "", ErrSecretUnreadable
	}
	return secret, keyID, nil
}
