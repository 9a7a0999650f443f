package sealedbox

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/cryptotest"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

// signedVector is one of Latch's own signed-envelope vectors in
// testdata/signed-vectors.json: a signing key, a recipient's key pair and a
// signed envelope, made from the deterministic randomness of
// cryptotest.SetGlobalRandom(Seed).
type signedVector struct {
	Scheme          string `json:"scheme"`
	Suite           string `json:"suite"`
	Seed            uint64 `json:"seed"`
	SigningKey      string `json:"signing_key"`
	SigningKeyBin   string `json:"signing_key_binary"`
	VerifyingKey    string `json:"verifying_key"`
	VerifyingKeyBin string `json:"verifying_key_binary"`
	SignerKeyID     string `json:"signer_key_id"`
	PrivateKey      string `json:"private_key"`
	RecipientKeyID  string `json:"recipient_key_id"`
	Context         string `json:"context"`
	Plaintext       string `json:"plaintext"`
	SignedMessage   string `json:"signed_message"`
	Signature       string `json:"signature"`
	Payload         string `json:"payload"`
	Envelope        string `json:"envelope"`
}

const signedVectorsFile = "testdata/signed-vectors.json"

// makeSignedVector produces the vector of scheme sc and suite s from seed.
func makeSignedVector(t *testing.T, sc *SignatureScheme, s *Suite, seed uint64) signedVector {
	cryptotest.SetGlobalRandom(t, seed)
	v := signedVector{Scheme: sc.String(), Suite: s.String(), Seed: seed}
	signer, err := sc.GenerateSigningKey()
	require.NoError(t, err)
	v.SigningKey = string(must(signer.MarshalText()))
	v.SigningKeyBin = hex.EncodeToString(must(signer.MarshalBinary()))
	v.VerifyingKey = signer.VerifyingKey().String()
	v.VerifyingKeyBin = hex.EncodeToString(must(signer.VerifyingKey().MarshalBinary()))
	v.SignerKeyID = signer.KeyID().String()
	priv, err := s.GenerateKey()
	require.NoError(t, err)
	v.PrivateKey = string(must(priv.MarshalText()))
	v.RecipientKeyID = priv.KeyID().String()

	ctx := []byte("integration 7/request 42")
	pt := []byte(`{"method":"GET","url":"https://api.example.com/v1/state"}`)
	v.Context, v.Plaintext = hex.EncodeToString(ctx), hex.EncodeToString(pt)
	v.SignedMessage = hex.EncodeToString(signedMessage(sc, signer.KeyID(), priv.KeyID(), ctx, pt))
	env := must(SealSigned(priv.PublicKey(), signer, pt, ctx))
	v.Envelope = hex.EncodeToString(env)
	payload, err := openEnvelope(signedEnvelope, priv, env, ctx, maxSignedPayload)
	require.NoError(t, err)
	v.Payload = hex.EncodeToString(payload)
	v.Signature = hex.EncodeToString(payload[schemeIDSize+len(KeyID{}) : sc.Overhead()])
	return v
}

func loadSignedVectors(t testing.TB) []signedVector {
	return sealtest.LoadVectors[signedVector](t, signedVectorsFile, 2)
}

// TestSignedVectorsReproducible makes the signed vectors again from their
// seeds and requires the same bytes (see TestVectorsReproducible).
func TestSignedVectorsReproducible(t *testing.T) {
	got := []signedVector{
		makeSignedVector(t, MLDSA65Ed25519(), MLKEM768X25519(), 3),
		makeSignedVector(t, Ed25519(), X25519(), 4),
	}
	sealtest.CheckVectors(t, signedVectorsFile, *update, got)
}

// TestSignedVectorsOpen opens the stored signed vectors and checks each
// field independently of how they were made: the signature verifies over
// the signed message with the stock ML-DSA-65 and Ed25519 verifiers.
func TestSignedVectorsOpen(t *testing.T) {
	for _, v := range loadSignedVectors(t) {
		t.Run(v.Scheme, func(t *testing.T) {
			signer, err := ParseSigningKey(v.SigningKey)
			require.NoError(t, err)
			vk, err := ParseVerifyingKey(v.VerifyingKey)
			require.NoError(t, err)
			require.True(t, signer.VerifyingKey().Equal(vk))
			require.Equal(t, v.SignerKeyID, vk.KeyID().String())
			require.Equal(t, v.SignerKeyID, KeyID(sha256Sum(unhex(t, v.VerifyingKeyBin))).String())
			require.Equal(t, v.Scheme, vk.Scheme().String())
			var sb SigningKey
			require.NoError(t, sb.UnmarshalBinary(unhex(t, v.SigningKeyBin)))
			require.True(t, sb.VerifyingKey().Equal(vk))

			priv, err := ParsePrivateKey(v.PrivateKey)
			require.NoError(t, err)
			require.Equal(t, v.RecipientKeyID, priv.KeyID().String())
			env := unhex(t, v.Envelope)
			require.Len(t, env, priv.Suite().Overhead()+vk.Scheme().Overhead()+len(unhex(t, v.Plaintext)))
			pt, id, err := OpenSigned(priv, []*VerifyingKey{vk}, env, unhex(t, v.Context))
			require.NoError(t, err)
			require.Equal(t, v.Plaintext, hex.EncodeToString(pt))
			require.Equal(t, v.SignerKeyID, id.String())
			require.Equal(t, v.Payload, hex.EncodeToString(must(openEnvelope(signedEnvelope, priv, env, unhex(t, v.Context), maxSignedPayload))))

			// The signed message, rebuilt from FORMAT.md's description.
			msg := []byte(signatureLabel)
			msg = append(msg, vk.Scheme().id[:]...)
			msg = append(msg, unhex(t, v.SignerKeyID)...)
			msg = append(msg, unhex(t, v.RecipientKeyID)...)
			ctx := unhex(t, v.Context)
			msg = append(msg, 0, 0, 0, 0, 0, 0, 0, byte(len(ctx)))
			msg = append(msg, ctx...)
			msg = append(msg, unhex(t, v.Plaintext)...)
			require.Equal(t, v.SignedMessage, hex.EncodeToString(msg))
			require.True(t, vk.verify(msg, unhex(t, v.Signature)))
		})
	}
}

// TestSignedFormatDocExample checks that the signed worked example in
// FORMAT.md is the ed25519 entry of testdata/signed-vectors.json, field by
// field, and that the sizes it states are the code's.
func TestSignedFormatDocExample(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	require.NoError(t, err)
	v := loadSignedVectors(t)[1]
	require.Equal(t, "Ed25519", v.Scheme)
	split := func(h string, sizes ...int) []string { return sealtest.SplitHex(t, h, sizes...) }
	want := []string{v.SigningKey, v.VerifyingKey, v.SignerKeyID, v.PrivateKey, v.RecipientKeyID,
		strings.Join(split(v.SigningKeyBin, 3, 1, 2), " "),
		strings.Join(split(v.VerifyingKeyBin, 3, 1, 2), " "),
		strings.Join(split(v.SignedMessage, len(signatureLabel), 2, 32, 32, 8, len(v.Context)/2), " "),
		strings.Join(split(v.Payload, 2, 32, 64), " "),
		string(unhex(t, v.Context)), string(unhex(t, v.Plaintext)),
		fmt.Sprintf("Envelope (%d bytes = %d + 90 + 98)", len(v.Envelope)/2, len(v.Plaintext)/2),
		fmt.Sprintf("`mldsa65ed25519` verifying key, is %d characters", verifyingKeyForm.MaxText()),
		fmt.Sprintf("2 + 32 + 3373 = **%d bytes**", MLDSA65Ed25519().Overhead()),
		fmt.Sprintf("2 + 32 + 64 = **%d bytes**", Ed25519().Overhead()),
		fmt.Sprintf("(%d bytes in all with the `mlkem768x25519` suite, %d with `x25519`)",
			MLKEM768X25519().Overhead()+MLDSA65Ed25519().Overhead(), X25519().Overhead()+Ed25519().Overhead()),
		fmt.Sprintf("\"%s\" (%d bytes)", signatureLabel, len(signatureLabel)),
		fmt.Sprintf("info = \"%s\" ‖ header (%d bytes)", signedEnvelopeLabel, len(signedEnvelopeLabel)+envelopeHeaderSize),
	}
	want = append(want, split(v.Envelope, 3, 1, 6, 32, 32)...)
	flat := strings.Join(strings.Fields(string(doc)), " ")
	for _, w := range want {
		require.True(t, strings.Contains(flat, strings.Join(strings.Fields(w), " ")), "FORMAT.md lacks %q", w)
	}
}
