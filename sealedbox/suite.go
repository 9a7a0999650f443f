package sealedbox

import (
	"crypto/hpke"
	"encoding/binary"

	"github.com/latchsec/latch/sealedbox/internal/keyform"
)

// A Suite is one of the two HPKE ciphersuites of this package. Suites are
// values returned by [MLKEM768X25519] and [X25519]; there is no other way to
// make one.
type Suite struct {
	name    string // as in key text encodings, lower case
	kem     hpke.KEM
	id      [suiteIDSize]byte // kem_id ‖ kdf_id ‖ aead_id, big endian
	pubSize int               // public key bytes
	encSize int               // encapsulated key bytes
}

const (
	suiteIDSize = keyform.SuiteIDSize
	privSize    = keyform.PrivateKeySize // the private key bytes of both suites
	tagSize     = 16                     // the Poly1305 tag
)

// Both suites use HKDF-SHA256 and ChaCha20-Poly1305 (RFC 9180 ids 0x0001 and
// 0x0003); only the KEM differs.
var (
	hpkeKDF  = hpke.HKDFSHA256()
	hpkeAEAD = hpke.ChaCha20Poly1305()
)

// newSuite returns the suite named in keyform.Suites[i], whose KEM is kem.
func newSuite(i int, kem hpke.KEM, pubSize, encSize int) *Suite {
	s := &Suite{name: keyform.Suites[i].Name, kem: kem, pubSize: pubSize, encSize: encSize}
	binary.BigEndian.PutUint16(s.id[0:], kem.ID())
	binary.BigEndian.PutUint16(s.id[2:], hpkeKDF.ID())
	binary.BigEndian.PutUint16(s.id[4:], hpkeAEAD.ID())
	if string(s.id[:]) != keyform.Suites[i].ID {
		panic("sealedbox: suite id of " + s.name + " differs from keyform's")
	}
	return s
}

var (
	suiteMLKEM768X25519 = newSuite(0, hpke.MLKEM768X25519(), 1216, 1120)
	suiteX25519         = newSuite(1, hpke.DHKEM(ecdhX25519), 32, 32)
)

// suites lists every supported suite, the default first.
var suites = []*Suite{suiteMLKEM768X25519, suiteX25519}

// MLKEM768X25519 returns the default suite and the one to use: the hybrid
// post-quantum KEM MLKEM768-X25519 (X-Wing, HPKE KEM id 0x647a, from
// draft-ietf-hpke-pq), HKDF-SHA256 and ChaCha20-Poly1305. An envelope stays
// confidential as long as either ML-KEM-768 or X25519 holds.
func MLKEM768X25519() *Suite { return suiteMLKEM768X25519 }

// X25519 returns the classical suite DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20-Poly1305 (RFC 9180). Its envelopes are 1088 bytes smaller than
// those of [MLKEM768X25519], and a quantum computer able to break X25519
// would open every one ever recorded: see the package documentation for
// when that is acceptable.
func X25519() *Suite { return suiteX25519 }

// String returns the suite's name, "MLKEM768X25519" or "X25519".
func (s *Suite) String() string {
	switch s {
	case suiteMLKEM768X25519:
		return "MLKEM768X25519"
	case suiteX25519:
		return "X25519"
	}
	return "invalid suite"
}

// Overhead returns how many bytes an envelope of this suite adds to its
// plaintext: 1178 for MLKEM768X25519, 90 for X25519.
func (s *Suite) Overhead() int { return envelopeHeaderSize + s.encSize + tagSize }

// suiteByID returns the suite with the given 6-byte id, or nil.
func suiteByID(id []byte) *Suite {
	for _, s := range suites {
		if string(s.id[:]) == string(id) {
			return s
		}
	}
	return nil
}

func (s *Suite) valid() bool { return s == suiteMLKEM768X25519 || s == suiteX25519 }
