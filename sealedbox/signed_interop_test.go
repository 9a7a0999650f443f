package sealedbox

import (
	"crypto/rand"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

// TestInteropNodeMLDSA65: ML-DSA-65 signatures made by circl (pure ML-DSA,
// empty context string, as signed envelopes use it) verify with
// @noble/post-quantum, and noble's verify with circl; both derive the same
// public key from the same 32-byte seed. A signature made with a non-empty
// context string does not verify under the empty one on either side, so
// both treat the context string alike.
func TestInteropNodeMLDSA65(t *testing.T) {
	var seed [mldsa65.SeedSize]byte
	rand.Read(seed[:])
	pk, sk := mldsa65.NewKeyFromSeed(&seed)
	msg := []byte("latch sealedbox signature v1 ... a signed message")
	goSig := make([]byte, mldsa65.SignatureSize)
	require.NoError(t, mldsa65.SignTo(sk, msg, nil, true, goSig))
	goCtxSig := make([]byte, mldsa65.SignatureSize)
	require.NoError(t, mldsa65.SignTo(sk, msg, []byte("ctx"), true, goCtxSig))
	bad := append([]byte(nil), goSig...)
	bad[100] ^= 1

	pkHex := hx(pk.Bytes())
	res := sealtest.RunNode(t, []sealtest.NodeOp{
		{"op": "mldsaKeygen", "seed": hx(seed[:])},
		{"op": "mldsaVerify", "publicKey": pkHex, "message": hx(msg), "signature": hx(goSig)},
		{"op": "mldsaVerify", "publicKey": pkHex, "message": hx(msg), "signature": hx(bad)},
		{"op": "mldsaVerify", "publicKey": pkHex, "message": hx(msg), "signature": hx(goCtxSig)},
		{"op": "mldsaVerify", "publicKey": pkHex, "message": hx(msg), "signature": hx(goCtxSig), "context": hx([]byte("ctx"))},
		{"op": "mldsaSign", "seed": hx(seed[:]), "message": hx(msg)},
		{"op": "mldsaSign", "seed": hx(seed[:]), "message": hx(msg), "context": hx([]byte("ctx"))},
	})
	for i, r := range res {
		require.True(t, r.OK, "op %d: %s", i, r.Error)
	}
	require.Equal(t, pkHex, res[0].PublicKey, "same public key from the same seed")
	require.True(t, res[1].Valid, "noble verifies circl's signature")
	require.False(t, res[2].Valid, "noble refuses an altered signature")
	require.False(t, res[3].Valid, "noble: a context-string signature is not an empty-context one")
	require.True(t, res[4].Valid, "noble verifies circl's context-string signature with the context")
	nobleSig := unhex(t, res[5].Signature)
	require.True(t, mldsa65.Verify(pk, msg, nil, nobleSig), "circl verifies noble's signature")
	require.False(t, mldsa65.Verify(pk, msg, []byte("ctx"), nobleSig))
	nobleCtxSig := unhex(t, res[6].Signature)
	require.False(t, mldsa65.Verify(pk, msg, nil, nobleCtxSig))
	require.True(t, mldsa65.Verify(pk, msg, []byte("ctx"), nobleCtxSig))
	require.False(t, mldsa65.Verify(pk, append(msg, 0), nil, nobleSig))
}

// TestInteropNodeSigned: signed envelopes made by Go open in the JavaScript
// implementation of FORMAT.md, and the reverse, for both schemes, with
// signing keys made on each side; each side refuses another context, an
// untrusted signer and an unsigned envelope.
func TestInteropNodeSigned(t *testing.T) {
	for _, sc := range allSchemes() {
		t.Run(sc.String(), func(t *testing.T) {
			ctx := []byte("integration 7/request 42")
			pt := []byte(`{"method":"POST","url":"https://api.example.com/v1/run"}`)
			recipient := must(MLKEM768X25519().GenerateKey())
			recipientText := string(must(recipient.MarshalText()))
			goSigner := must(sc.GenerateSigningKey())
			stranger := must(sc.GenerateSigningKey()).VerifyingKey().String()
			goEnv := must(SealSigned(recipient.PublicKey(), goSigner, pt, ctx))
			unsigned := must(Seal(recipient.PublicKey(), pt, ctx))
			trustGo := []string{stranger, goSigner.VerifyingKey().String()}

			res := sealtest.RunNode(t, []sealtest.NodeOp{
				{"op": "signKeygen", "scheme": sc.name},
				{"op": "openSigned", "privateKey": recipientText, "verifyingKeys": trustGo, "envelope": hx(goEnv), "context": hx(ctx)},
				{"op": "openSigned", "privateKey": recipientText, "verifyingKeys": trustGo, "envelope": hx(goEnv), "context": hx([]byte("integration 7/request 43"))},
				{"op": "openSigned", "privateKey": recipientText, "verifyingKeys": []string{stranger}, "envelope": hx(goEnv), "context": hx(ctx)},
				{"op": "openSigned", "privateKey": recipientText, "verifyingKeys": trustGo, "envelope": hx(unsigned), "context": hx(ctx)},
				{"op": "sealSigned", "publicKey": recipient.PublicKey().String(), "signingKey": string(must(goSigner.MarshalText())), "plaintext": hx(pt), "context": hx(ctx)},
			})
			require.True(t, res[0].OK, res[0].Error)
			require.True(t, res[1].OK, "Go signs and seals, Node opens: %s", res[1].Error)
			require.Equal(t, hx(pt), res[1].Plaintext)
			require.Equal(t, goSigner.KeyID().String(), res[1].Signer)
			require.False(t, res[2].OK, "Node opened under another context")
			require.Equal(t, "unknown signer", res[3].Error)
			require.False(t, res[4].OK, "Node accepted an unsigned envelope")
			require.True(t, res[5].OK, res[5].Error)
			got, signer, err := OpenSigned(recipient, []*VerifyingKey{goSigner.VerifyingKey()}, unhex(t, res[5].Envelope), ctx)
			require.NoError(t, err, "Node signs with Go's key, Go opens")
			require.Equal(t, pt, got)
			require.Equal(t, goSigner.KeyID(), signer)

			// Node's signing key, read by Go; Node signs and seals with it.
			nodeSigner, err := ParseSigningKey(res[0].SigningKey)
			require.NoError(t, err)
			nodeVK, err := ParseVerifyingKey(res[0].VerifyingKey)
			require.NoError(t, err)
			require.True(t, nodeSigner.VerifyingKey().Equal(nodeVK), "Node's verifying key is its signing key's")
			require.Equal(t, res[0].KeyID, nodeVK.KeyID().String())
			require.Equal(t, res[0].SigningKey, string(must(nodeSigner.MarshalText())))
			res = sealtest.RunNode(t, []sealtest.NodeOp{
				{"op": "sealSigned", "publicKey": recipient.PublicKey().String(), "signingKey": res[0].SigningKey, "plaintext": hx(pt), "context": hx(ctx)},
			})
			require.True(t, res[0].OK, res[0].Error)
			nodeEnv := unhex(t, res[0].Envelope)
			require.Len(t, nodeEnv, MLKEM768X25519().Overhead()+sc.Overhead()+len(pt))
			got, signer, err = OpenSigned(recipient, []*VerifyingKey{goSigner.VerifyingKey(), nodeVK}, nodeEnv, ctx)
			require.NoError(t, err, "Node signs and seals with its key, Go opens")
			require.Equal(t, pt, got)
			require.Equal(t, nodeVK.KeyID(), signer)
			_, _, err = OpenSigned(recipient, []*VerifyingKey{goSigner.VerifyingKey()}, nodeEnv, ctx)
			require.ErrorIs(t, err, ErrUnknownSigner)
			_, _, err = OpenSigned(recipient, []*VerifyingKey{nodeVK}, nodeEnv, []byte("other"))
			require.ErrorIs(t, err, ErrOpen)
		})
	}
}
