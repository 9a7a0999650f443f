package sealedbox

import (
	"encoding/binary"

	"github.com/latchsec/latch/internal/reason"
)

// Signed envelope layout (FORMAT.md): an envelope with its own magic and
// HPKE info label, whose payload is
//
//	scheme id (2) ‖ signer key id (32) ‖ signature ‖ plaintext
//
// and whose signature is over signedMessage: the signature label, the
// scheme id, the signer's key id, the recipient's key id, the context and
// the plaintext. Signing, then sealing, hides who signed from whoever
// stores the envelope.
var signedEnvelopeMagic = [3]byte{'L', 'S', 'N'}

const (
	signedEnvelopeLabel = "latch sealedbox signed envelope"
	signatureLabel      = "latch sealedbox signature v1"
)

var signedEnvelope = envelopeKind{signedEnvelopeMagic, signedEnvelopeLabel}

// maxSignedPayload is the largest payload of a signed envelope.
var maxSignedPayload = maxPlaintextSize + schemeMLDSA65Ed25519.Overhead()

// signedMessage returns the message that the signature of a signed envelope
// is over.
func signedMessage(s *SignatureScheme, signer, recipient KeyID, context, plaintext []byte) []byte {
	m := make([]byte, 0, len(signatureLabel)+schemeIDSize+2*len(KeyID{})+8+len(context)+len(plaintext))
	m = append(m, signatureLabel...)
	m = append(m, s.id[:]...)
	m = append(m, signer[:]...)
	m = append(m, recipient[:]...)
	m = binary.BigEndian.AppendUint64(m, uint64(len(context)))
	m = append(m, context...)
	return append(m, plaintext...)
}

// SealSigned signs plaintext with signer, then seals it to pub as [Seal]
// does: only the holder of the matching private key can open it, with
// [OpenSigned], the same context and signer's verifying key, and then knows
// that signer made it for them.
//
// The signature covers the recipient's key id, the context and the
// plaintext, so the recipient cannot pass the signed plaintext on to
// another key, nor can anyone move the envelope to another context, and
// still have the signature verify. It is inside the encryption: whoever
// stores the envelope does not learn who signed it.
//
// The envelope is [Suite.Overhead] plus [SignatureScheme.Overhead] bytes
// longer than plaintext, which may be at most 1 MiB ([ErrTooLarge]).
func SealSigned(pub *PublicKey, signer *SigningKey, plaintext, context []byte) ([]byte, error) {
	if !pub.valid() {
		return nil, errKey("SealSigned with an invalid public key")
	}
	if !signer.valid() {
		return nil, errKey("SealSigned with an invalid signing key")
	}
	if len(plaintext) > maxPlaintextSize {
		return nil, reason.Newf(ErrTooLarge, nil, "plaintext longer than 1 MiB")
	}
	s := signer.scheme
	sig, err := signer.sign(signedMessage(s, signer.pub.id, pub.id, context, plaintext))
	if err != nil {
		return nil, reason.Wrap(errSeal, nil, err)
	}
	payload := make([]byte, 0, s.Overhead()+len(plaintext))
	payload = append(payload, s.id[:]...)
	payload = append(payload, signer.pub.id[:]...)
	payload = append(payload, sig...)
	payload = append(payload, plaintext...)
	return sealEnvelope(signedEnvelope, pub, payload, context)
}

// OpenSigned opens an envelope made by [SealSigned] for priv's public key
// with the same context, checks that one of signers signed it, and returns
// the plaintext and the key id of the verifying key that signed it.
//
// signers are the verifying keys the caller trusts for this envelope, got
// from the signer by a way that does not pass through whoever stores the
// envelope. Every failure matches [ErrOpen], with a reason where it is not
// secret: an envelope made by [Seal] matches [ErrUnsigned]; one signed by a
// key not in signers, [ErrUnknownSigner]; one whose signature does not
// verify, [ErrBadSignature]. An envelope sealed to another key fails with
// [ErrWrongKey], from its key id alone.
func OpenSigned(priv *PrivateKey, signers []*VerifyingKey, envelope, context []byte) ([]byte, KeyID, error) {
	if !priv.valid() {
		return nil, KeyID{}, errKey("OpenSigned with an invalid private key")
	}
	payload, err := openEnvelope(signedEnvelope, priv, envelope, context, maxSignedPayload)
	if err != nil {
		return nil, KeyID{}, err
	}
	if len(payload) < schemeIDSize+len(KeyID{}) {
		return nil, KeyID{}, errOpen(errMalformed)
	}
	s := schemeByID(payload[:schemeIDSize])
	if s == nil {
		return nil, KeyID{}, errOpen(errUnsupportedSuite)
	}
	if len(payload) < s.Overhead() {
		return nil, KeyID{}, errOpen(errMalformed)
	}
	id := KeyID(payload[schemeIDSize : schemeIDSize+len(KeyID{})])
	var signer *VerifyingKey
	for _, k := range signers {
		if k.valid() && k.id == id && k.scheme == s {
			signer = k
			break
		}
	}
	if signer == nil {
		return nil, KeyID{}, errOpen(ErrUnknownSigner)
	}
	sig, plaintext := payload[schemeIDSize+len(KeyID{}):s.Overhead()], payload[s.Overhead():]
	if !signer.verify(signedMessage(s, id, priv.pub.id, context, plaintext), sig) {
		return nil, KeyID{}, errOpen(ErrBadSignature)
	}
	return plaintext, id, nil
}
