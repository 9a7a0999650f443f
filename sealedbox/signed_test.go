package sealedbox

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

// signedParty is a recipient's key pair and a signer's key, for the attack
// tests.
type signedParty struct {
	recipient *PrivateKey
	signer    *SigningKey
	trusted   []*VerifyingKey
}

func newSignedParty(t *testing.T, s *Suite, sc *SignatureScheme) signedParty {
	t.Helper()
	r, err := s.GenerateKey()
	require.NoError(t, err)
	k, err := sc.GenerateSigningKey()
	require.NoError(t, err)
	return signedParty{r, k, []*VerifyingKey{k.VerifyingKey()}}
}

// payloadOf opens a signed envelope as its recipient can and returns the
// signed payload inside: what a recipient turned attacker has to work with.
func payloadOf(t *testing.T, priv *PrivateKey, env, ctx []byte) []byte {
	t.Helper()
	p, err := openEnvelope(signedEnvelope, priv, env, ctx, maxSignedPayload)
	require.NoError(t, err)
	return p
}

// resealPayload seals a signed payload as anyone with the public key can.
func resealPayload(t *testing.T, pub *PublicKey, payload, ctx []byte) []byte {
	t.Helper()
	return must(sealEnvelope(signedEnvelope, pub, payload, ctx))
}

func TestSealSignedOpen(t *testing.T) {
	for _, s := range allSuites() {
		for _, sc := range allSchemes() {
			t.Run(s.String()+"/"+sc.String(), func(t *testing.T) {
				p := newSignedParty(t, s, sc)
				ctx := []byte("integration 7/request 42")
				for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("a"), 5000)} {
					env, err := SealSigned(p.recipient.PublicKey(), p.signer, pt, ctx)
					require.NoError(t, err)
					require.Len(t, env, s.Overhead()+sc.Overhead()+len(pt))
					require.True(t, IsSigned(env))
					id, err := EnvelopeKeyID(env)
					require.NoError(t, err)
					require.Equal(t, p.recipient.KeyID(), id)
					other := must(Ed25519().GenerateSigningKey()).VerifyingKey()
					got, signer, err := OpenSigned(p.recipient, []*VerifyingKey{other, p.signer.VerifyingKey()}, env, ctx)
					require.NoError(t, err)
					require.Equal(t, p.signer.KeyID(), signer)
					require.Equal(t, string(pt), string(got))
				}
			})
		}
	}
	pt := make([]byte, maxPlaintextSize)
	p := newSignedParty(t, X25519(), MLDSA65Ed25519())
	env, err := SealSigned(p.recipient.PublicKey(), p.signer, pt, nil)
	require.NoError(t, err)
	_, _, err = OpenSigned(p.recipient, p.trusted, env, nil)
	require.NoError(t, err, "the largest plaintext opens")
	_, err = SealSigned(p.recipient.PublicKey(), p.signer, append(pt, 0), nil)
	require.ErrorIs(t, err, ErrTooLarge)
}

// TestSignedCloudReseals: whoever stores the envelope (the cloud) replaces a
// signed envelope by one it made itself for the same recipient and context,
// knowing the plaintext: unsigned, signed with its own key, or signed by it
// in the name of the signer's key id. The recipient refuses each.
func TestSignedCloudReseals(t *testing.T) {
	p := newSignedParty(t, X25519(), MLDSA65Ed25519())
	pub := p.recipient.PublicKey()
	ctx := []byte("integration 7/request 42")
	evil := []byte(`{"tokenUrl":"http://attacker.example/token","securityLevel":"AllowHttp"}`)

	unsigned := must(Seal(pub, evil, ctx))
	require.False(t, IsSigned(unsigned))
	_, _, err := OpenSigned(p.recipient, p.trusted, unsigned, ctx)
	require.ErrorIs(t, err, ErrOpen)
	require.ErrorIs(t, err, ErrUnsigned)

	// The unsigned envelope relabeled as signed does not open: the magic
	// is in the HPKE info.
	relabeled := bytes.Clone(unsigned)
	copy(relabeled, signedEnvelopeMagic[:])
	_, _, err = OpenSigned(p.recipient, p.trusted, relabeled, ctx)
	require.ErrorIs(t, err, ErrOpen)
	require.NotErrorIs(t, err, ErrUnsigned)

	for _, sc := range allSchemes() {
		cloud := must(sc.GenerateSigningKey())
		own := must(SealSigned(pub, cloud, evil, ctx))
		_, _, err = OpenSigned(p.recipient, p.trusted, own, ctx)
		require.ErrorIs(t, err, ErrOpen)
		require.ErrorIs(t, err, ErrUnknownSigner)

		// Its own signature under the signer's key id.
		payload := payloadOf(t, p.recipient, own, ctx)
		if sc == p.signer.scheme {
			id := p.signer.KeyID()
			copy(payload[schemeIDSize:], id[:])
			_, _, err = OpenSigned(p.recipient, p.trusted, resealPayload(t, pub, payload, ctx), ctx)
			require.ErrorIs(t, err, ErrBadSignature)
		}
	}

	// The genuine one still opens.
	env := must(SealSigned(pub, p.signer, []byte("genuine"), ctx))
	_, _, err = OpenSigned(p.recipient, p.trusted, env, ctx)
	require.NoError(t, err)
	// And the plain Open refuses a signed envelope rather than return the
	// signature with the plaintext.
	_, err = Open(p.recipient, env, ctx)
	require.ErrorIs(t, err, ErrOpen)
}

// TestSignedStripHybrid: a hybrid signature is refused unless both its
// ML-DSA-65 and its Ed25519 signature verify, and neither half passes for a
// signature of its own scheme, even under a key made from the same seed.
func TestSignedStripHybrid(t *testing.T) {
	p := newSignedParty(t, X25519(), MLDSA65Ed25519())
	pub := p.recipient.PublicKey()
	ctx := []byte("ctx")
	pt := []byte("request")
	payload := payloadOf(t, p.recipient, must(SealSigned(pub, p.signer, pt, ctx)), ctx)
	head := schemeIDSize + len(KeyID{})
	mlSig := payload[head : head+mldsa65.SignatureSize]
	edSig := payload[head+mldsa65.SignatureSize : head+mldsa65.SignatureSize+ed25519.SignatureSize]
	hybridHead := payload[:head]

	try := func(name string, payload []byte, trusted []*VerifyingKey, reasons ...error) {
		t.Helper()
		got, _, err := OpenSigned(p.recipient, trusted, resealPayload(t, pub, payload, ctx), ctx)
		require.Nil(t, got, name)
		require.ErrorIs(t, err, ErrOpen, name)
		for _, r := range reasons {
			require.ErrorIs(t, err, r, name)
		}
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	zeros := func(n int) []byte { return make([]byte, n) }

	try("ML-DSA half zeroed", cat(hybridHead, zeros(len(mlSig)), edSig, pt), p.trusted, ErrBadSignature)
	try("Ed25519 half zeroed", cat(hybridHead, mlSig, zeros(len(edSig)), pt), p.trusted, ErrBadSignature)
	try("ML-DSA half only", cat(hybridHead, mlSig, pt), p.trusted)
	try("Ed25519 half only", cat(hybridHead, edSig, pt), p.trusted)
	try("halves swapped", cat(hybridHead, edSig, mlSig, pt), p.trusted, ErrBadSignature)

	// The signer's Ed25519 seed as an Ed25519 signing key, trusted too: the
	// Ed25519 half of the hybrid signature does not pass as its signature,
	// because the scheme id and key id are in the signed message.
	edOnly, err := newSigningKey(Ed25519(), p.signer.seed[mldsa65.SeedSize:])
	require.NoError(t, err)
	require.Equal(t, []byte(edOnly.ed), []byte(p.signer.ed))
	edID := edOnly.KeyID()
	trusted := []*VerifyingKey{p.signer.VerifyingKey(), edOnly.VerifyingKey()}
	try("Ed25519 half as an Ed25519 signature", cat(Ed25519().id[:], edID[:], edSig, pt), trusted, ErrBadSignature)
	// Under the hybrid scheme id but the Ed25519 key's id: the scheme of
	// the named key must match.
	try("hybrid scheme, Ed25519 key id", cat(MLDSA65Ed25519().id[:], edID[:], mlSig, edSig, pt), trusted, ErrUnknownSigner)
	// Unchanged, it still opens.
	_, _, err = OpenSigned(p.recipient, trusted, resealPayload(t, pub, payload, ctx), ctx)
	require.NoError(t, err)
}

// TestSignedMoved: a signed envelope opened under another context, or its
// signed payload re-sealed by the recipient to another recipient or under
// another context, is refused.
func TestSignedMoved(t *testing.T) {
	for _, sc := range allSchemes() {
		t.Run(sc.String(), func(t *testing.T) {
			p := newSignedParty(t, X25519(), sc)
			ctx := []byte("integration 7/request 42")
			env := must(SealSigned(p.recipient.PublicKey(), p.signer, []byte("request"), ctx))

			_, _, err := OpenSigned(p.recipient, p.trusted, env, []byte("integration 7/request 43"))
			require.ErrorIs(t, err, ErrOpen, "another context")

			payload := payloadOf(t, p.recipient, env, ctx)
			moved := resealPayload(t, p.recipient.PublicKey(), payload, []byte("integration 7/request 43"))
			_, _, err = OpenSigned(p.recipient, p.trusted, moved, []byte("integration 7/request 43"))
			require.ErrorIs(t, err, ErrBadSignature, "re-sealed under another context")

			for _, s := range allSuites() {
				carol := must(s.GenerateKey())
				forwarded := resealPayload(t, carol.PublicKey(), payload, ctx)
				_, _, err = OpenSigned(carol, p.trusted, forwarded, ctx)
				require.ErrorIs(t, err, ErrBadSignature, "re-sealed to another recipient")
				_, _, err = OpenSigned(carol, p.trusted, env, ctx)
				require.ErrorIs(t, err, ErrWrongKey)
			}
		})
	}
}

// TestSignedTruncated: a signed payload cut anywhere (in the scheme id, the
// key id, the signature or the plaintext) and re-sealed is refused; so is
// a payload with bytes appended.
func TestSignedTruncated(t *testing.T) {
	for _, sc := range allSchemes() {
		t.Run(sc.String(), func(t *testing.T) {
			p := newSignedParty(t, X25519(), sc)
			pub := p.recipient.PublicKey()
			ctx := []byte("c")
			payload := payloadOf(t, p.recipient, must(SealSigned(pub, p.signer, []byte("a request"), ctx)), ctx)
			cuts := []int{0, 1, schemeIDSize, schemeIDSize + 31, sc.Overhead() - 1, sc.Overhead(), len(payload) - 1}
			if sc == MLDSA65Ed25519() {
				cuts = append(cuts, schemeIDSize+32+mldsa65.SignatureSize)
			}
			for _, n := range cuts {
				_, _, err := OpenSigned(p.recipient, p.trusted, resealPayload(t, pub, payload[:n], ctx), ctx)
				require.ErrorIs(t, err, ErrOpen, "cut at %d", n)
			}
			_, _, err := OpenSigned(p.recipient, p.trusted, resealPayload(t, pub, append(bytes.Clone(payload), 0), ctx), ctx)
			require.ErrorIs(t, err, ErrBadSignature)
			unknown := bytes.Clone(payload)
			unknown[1] = 0x7f
			_, _, err = OpenSigned(p.recipient, p.trusted, resealPayload(t, pub, unknown, ctx), ctx)
			require.ErrorIs(t, err, errUnsupportedSuite)
		})
	}
}

// TestTamperSignedEnvelope: every single-byte change, truncation and
// extension of a signed envelope is refused.
func TestTamperSignedEnvelope(t *testing.T) {
	p := newSignedParty(t, X25519(), Ed25519())
	ctx := []byte("record 9")
	env := must(SealSigned(p.recipient.PublicKey(), p.signer, []byte("an integrator request"), ctx))
	sealtest.Mutations(t, env, envelopeHeaderSize, []byte{0x01, 0x80}, func(m []byte) error {
		pt, _, err := OpenSigned(p.recipient, p.trusted, m, ctx)
		if pt != nil {
			return sealtest.ErrAccepted
		}
		return sealtest.WantRefused(err, ErrOpen, ErrWrongKey)
	})
	_, _, err := OpenSigned(p.recipient, p.trusted, env, ctx)
	require.NoError(t, err)
}
