package sealedbox

import (
	"crypto/hpke"

	"github.com/latchsec/latch/internal/reason"
)

// maxPlaintextSize is the largest plaintext that [Seal] and [SealSigned]
// accept: 1 MiB (sealedbox/e2e's messages have the same cap). [Open]
// refuses, before any cryptographic work, an input longer than a sealed
// plaintext of this size would be.
const maxPlaintextSize = 1 << 20

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

func appendEnvelopeHeader(b []byte, magic [3]byte, s *Suite, id KeyID) []byte {
	b = append(b, magic[:]...)
	b = append(b, envelopeVersion)
	b = append(b, s.id[:]...)
	return append(b, id[:]...)
}

func envelopeInfo(label string, header []byte) []byte {
	info := make([]byte, 0, len(label)+len(header))
	info = append(info, label...)
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
// at most 1 MiB; a longer one fails with [ErrTooLarge].
func Seal(pub *PublicKey, plaintext, context []byte) ([]byte, error) {
	if !pub.valid() {
		return nil, errKey("Seal with an invalid public key")
	}
	if len(plaintext) > maxPlaintextSize {
		return nil, reason.Newf(ErrTooLarge, nil, "plaintext longer than 1 MiB")
	}
	return sealEnvelope(plainEnvelope, pub, plaintext, context)
}

// An envelopeKind is the magic and HPKE info label of envelopes made by
// [Seal] or by [SealSigned]. The magic is in the header, which is in the
// HPKE info, so an envelope of one kind relabeled as the other does not
// open.
type envelopeKind struct {
	magic [3]byte
	label string
}

var plainEnvelope = envelopeKind{envelopeMagic, envelopeLabel}

// sealEnvelope encrypts payload to pub as an envelope of kind k.
func sealEnvelope(k envelopeKind, pub *PublicKey, payload, context []byte) ([]byte, error) {
	s := pub.suite
	out := make([]byte, 0, s.Overhead()+len(payload))
	out = appendEnvelopeHeader(out, k.magic, s, pub.id)
	enc, sender, err := hpke.NewSender(pub.pk, hpkeKDF, hpkeAEAD, envelopeInfo(k.label, out))
	if err != nil {
		// Only a degenerate X25519 public key (a low-order point) gets here.
		return nil, &reason.Fault{Category: ErrInvalidKey, Detail: "cannot seal to this public key", Cause: err}
	}
	ct, err := sender.Seal(context, payload)
	if err != nil {
		return nil, reason.Wrap(errSeal, nil, err)
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
		return nil, errKey("Open with an invalid private key")
	}
	return openEnvelope(plainEnvelope, priv, envelope, context, maxPlaintextSize)
}

// openEnvelope opens an envelope of kind k whose payload is at most
// maxPayload bytes.
func openEnvelope(k envelopeKind, priv *PrivateKey, envelope, context []byte, maxPayload int) ([]byte, error) {
	magic, s, id, err := parseEnvelopeHeader(envelope)
	if err != nil {
		return nil, err
	}
	if magic != k.magic {
		if k.magic == signedEnvelopeMagic {
			return nil, errOpen(ErrUnsigned)
		}
		return nil, errOpen(errMalformed)
	}
	if s != priv.suite {
		return nil, reason.New(ErrWrongKey, errSuiteMismatch)
	}
	if id != priv.pub.id {
		return nil, reason.New(ErrWrongKey, nil)
	}
	body := envelope[envelopeHeaderSize:]
	if len(body) < s.encSize+tagSize {
		return nil, errOpen(errMalformed)
	}
	if len(body) > s.encSize+maxPayload+tagSize {
		return nil, errOpen(ErrTooLarge)
	}
	enc, ct := body[:s.encSize], body[s.encSize:]
	r, err := priv.recipient(enc, envelopeInfo(k.label, envelope[:envelopeHeaderSize]))
	if err != nil {
		return nil, reason.Newf(ErrOpen, nil, envelopeAuthFailed)
	}
	pt, err := r.Open(context, ct)
	if err != nil {
		return nil, reason.Newf(ErrOpen, nil, envelopeAuthFailed)
	}
	return pt, nil
}

// EnvelopeKeyID returns the key id of the public key an envelope (signed or
// not) was sealed to, so that a holder of several private keys can pick the
// one to [Open] or [OpenSigned] it with. The key id is not authenticated
// until the envelope opens.
func EnvelopeKeyID(envelope []byte) (KeyID, error) {
	_, _, id, err := parseEnvelopeHeader(envelope)
	return id, err
}

// IsSigned reports whether envelope is, by its header, a signed envelope
// made by [SealSigned], so that whoever stores envelopes can mark them. It
// proves nothing: only [OpenSigned] checks the signature, and a party that
// requires signed envelopes must open them with it.
func IsSigned(envelope []byte) bool {
	magic, _, _, err := parseEnvelopeHeader(envelope)
	return err == nil && magic == signedEnvelopeMagic
}

// recipient returns the HPKE recipient context of priv's suite for enc and
// info. The known-answer tests open the RFC's ciphertexts through it.
func (k *PrivateKey) recipient(enc, info []byte) (*hpke.Recipient, error) {
	return hpke.NewRecipient(enc, k.sk, hpkeKDF, hpkeAEAD, info)
}

func parseEnvelopeHeader(envelope []byte) ([3]byte, *Suite, KeyID, error) {
	if len(envelope) < 4 {
		return [3]byte{}, nil, KeyID{}, errOpen(errMalformed)
	}
	magic := [3]byte(envelope[:3])
	if magic != envelopeMagic && magic != signedEnvelopeMagic {
		return [3]byte{}, nil, KeyID{}, errOpen(errMalformed)
	}
	if envelope[3] != envelopeVersion {
		return [3]byte{}, nil, KeyID{}, errOpen(errUnsupportedVersion)
	}
	if len(envelope) < envelopeHeaderSize {
		return [3]byte{}, nil, KeyID{}, errOpen(errMalformed)
	}
	s := suiteByID(envelope[4 : 4+suiteIDSize])
	if s == nil {
		return [3]byte{}, nil, KeyID{}, errOpen(errUnsupportedSuite)
	}
	return magic, s, KeyID(envelope[4+suiteIDSize : envelopeHeaderSize]), nil
}
