package sealedbox

import (
	"crypto/hpke"
	"errors"
	"fmt"
)

// MaxPlaintextSize is the largest plaintext that [Seal] and
// [MessageSender.Seal] accept: 1 MiB. [Open] and [MessageReceiver.Open]
// refuse, before any cryptographic work, an input longer than a sealed
// plaintext of this size would be.
const MaxPlaintextSize = 1 << 20

// Envelope layout (FORMAT.md):
//
//	"LSE" ‖ version ‖ suite id (6) ‖ key id (32) ‖ enc ‖ HPKE ciphertext
//
// The header (everything before enc) is bound into the HPKE key schedule:
// info = envelopeLabel ‖ header. The caller's context is the AEAD's
// additional data.
var envelopeMagic = [3]byte{'L', 'S', 'E'}

const (
	envelopeVersion    = 1
	envelopeHeaderSize = 3 + 1 + suiteIDSize + len(KeyID{})
	envelopeLabel      = "latch sealedbox envelope"
)

func appendEnvelopeHeader(b []byte, s *Suite, id KeyID) []byte {
	b = append(b, envelopeMagic[:]...)
	b = append(b, envelopeVersion)
	b = append(b, s.id[:]...)
	return append(b, id[:]...)
}

func envelopeInfo(header []byte) []byte {
	info := make([]byte, 0, len(envelopeLabel)+len(header))
	info = append(info, envelopeLabel...)
	return append(info, header...)
}

// Seal encrypts plaintext to pub and returns the envelope, which only the
// matching private key opens, with the same context. context is bound to
// the envelope but not stored in it: pass what identifies the place the
// envelope is stored for (such as the record id and the integration id), so
// that an envelope copied to another record does not open there. It may be
// empty.
//
// The envelope is [Suite.Overhead] bytes longer than plaintext, which may be
// at most [MaxPlaintextSize] bytes.
func Seal(pub *PublicKey, plaintext, context []byte) ([]byte, error) {
	if !pub.valid() {
		return nil, errors.New("sealedbox: Seal with an invalid public key")
	}
	if len(plaintext) > MaxPlaintextSize {
		return nil, ErrTooLarge
	}
	s := pub.suite
	out := make([]byte, 0, s.Overhead()+len(plaintext))
	out = appendEnvelopeHeader(out, s, pub.id)
	enc, sender, err := hpke.NewSender(pub.pk, hpkeKDF, hpkeAEAD, envelopeInfo(out))
	if err != nil {
		// Only a degenerate X25519 public key (a low-order point) gets here.
		return nil, fmt.Errorf("sealedbox: cannot seal to this public key: %w", err)
	}
	ct, err := sender.Seal(context, plaintext)
	if err != nil {
		return nil, err
	}
	out = append(out, enc...)
	return append(out, ct...), nil
}

// Open decrypts an envelope made by [Seal] for priv's public key with the
// same context, and returns the plaintext.
//
// An envelope sealed to another key fails with [ErrWrongKey], from its key
// id alone. Every other failure matches [ErrOpen]; in particular an envelope
// that was altered, or sealed under another context, fails with ErrOpen and
// no further reason.
func Open(priv *PrivateKey, envelope, context []byte) ([]byte, error) {
	if !priv.valid() {
		return nil, errors.New("sealedbox: Open with an invalid private key")
	}
	s, id, err := parseEnvelopeHeader(envelope)
	if err != nil {
		return nil, err
	}
	if s != priv.suite {
		return nil, &reasonError{ErrWrongKey, ErrSuiteMismatch}
	}
	if id != priv.pub.id {
		return nil, ErrWrongKey
	}
	body := envelope[envelopeHeaderSize:]
	if len(body) < s.encSize+tagSize {
		return nil, errOpen(ErrMalformed)
	}
	if len(body) > s.encSize+MaxPlaintextSize+tagSize {
		return nil, errOpen(ErrTooLarge)
	}
	enc, ct := body[:s.encSize], body[s.encSize:]
	r, err := priv.recipient(enc, envelopeInfo(envelope[:envelopeHeaderSize]))
	if err != nil {
		return nil, errOpen(nil)
	}
	pt, err := r.Open(context, ct)
	if err != nil {
		return nil, errOpen(nil)
	}
	return pt, nil
}

// EnvelopeKeyID returns the key id of the public key an envelope was sealed
// to, so that a holder of several private keys can pick the one to [Open]
// it with. The key id is not authenticated until the envelope opens.
func EnvelopeKeyID(envelope []byte) (KeyID, error) {
	_, id, err := parseEnvelopeHeader(envelope)
	return id, err
}

// recipient returns the HPKE recipient context of priv's suite for enc and
// info. The known-answer tests open the RFC's ciphertexts through it.
func (k *PrivateKey) recipient(enc, info []byte) (*hpke.Recipient, error) {
	return hpke.NewRecipient(enc, k.sk, hpkeKDF, hpkeAEAD, info)
}

func parseEnvelopeHeader(envelope []byte) (*Suite, KeyID, error) {
	if len(envelope) < 4 || [3]byte(envelope[:3]) != envelopeMagic {
		return nil, KeyID{}, errOpen(ErrMalformed)
	}
	if envelope[3] != envelopeVersion {
		return nil, KeyID{}, errOpen(ErrUnsupportedVersion)
	}
	if len(envelope) < envelopeHeaderSize {
		return nil, KeyID{}, errOpen(ErrMalformed)
	}
	s := suiteByID(envelope[4 : 4+suiteIDSize])
	if s == nil {
		return nil, KeyID{}, errOpen(ErrUnsupportedSuite)
	}
	return s, KeyID(envelope[4+suiteIDSize : envelopeHeaderSize]), nil
}
