package e2e

import (
	"encoding/hex"
	"flag"
	"testing"
	"testing/cryptotest"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the current code")

// vector is one of Latch's own vectors in testdata/vectors.json: an
// end-to-end key, a private key wrapped under it and a message, made from
// the deterministic randomness of cryptotest.SetGlobalRandom(Seed). The
// key pair and its envelope come first, as in sealedbox's vectors of the
// same seed, so the bytes here are those the formats had in sealedbox
// before this package split from it.
type vector struct {
	Suite          string `json:"suite"`
	Seed           uint64 `json:"seed"`
	PrivateKey     string `json:"private_key"`
	PublicKey      string `json:"public_key"`
	KeyID          string `json:"key_id"`
	Key            string `json:"e2e_key"`
	KeyText        string `json:"e2e_key_text"`
	WrappedKey     string `json:"wrapped_key"`
	WrappedKeyText string `json:"wrapped_key_text"`
	MessageContext string `json:"message_context"`
	MessageSeq     uint64 `json:"message_seq"`
	MessagePlain   string `json:"message_plaintext"`
	Message        string `json:"message"`
}

const vectorsFile = "testdata/vectors.json"

// makeVector produces the vector of suite s from seed. It is the sequence of
// calls whose bytes the vectors pin down.
func makeVector(t *testing.T, s *sealedbox.Suite, seed uint64) vector {
	cryptotest.SetGlobalRandom(t, seed)
	v := vector{Suite: s.String(), Seed: seed}
	priv, err := s.GenerateKey()
	require.NoError(t, err)
	pub := priv.PublicKey()
	v.PrivateKey = string(must(priv.MarshalText()))
	v.PublicKey = pub.String()
	v.KeyID = pub.KeyID().String()
	// sealedbox's vector seals here; drawing the same randomness keeps
	// what follows as it was.
	_ = must(sealedbox.Seal(pub, []byte(`{"method":"GET","url":"https://api.example.com/v1/state"}`), []byte("record 42/integration 7")))

	key := GenerateKey()
	v.Key = hex.EncodeToString(key.b[:])
	v.KeyText = keyText(key)
	v.WrappedKeyText = must(WrapPrivateKey(key, priv))
	v.WrappedKey = hex.EncodeToString(wrappedBinary(t, v.WrappedKeyText))

	mctx := []byte("device 0042/rules")
	mpt := []byte(`{"rule":"when temperature > 30 then fan on"}`)
	sender, err := NewSender(key, mctx, 6)
	require.NoError(t, err)
	v.MessageContext, v.MessagePlain = hex.EncodeToString(mctx), hex.EncodeToString(mpt)
	v.Message = hex.EncodeToString(must(sender.Seal(mpt)))
	v.MessageSeq = sender.Last()
	return v
}

func loadVectors(t testing.TB) []vector { return sealtest.LoadVectors[vector](t, vectorsFile, 2) }

// TestVectorsReproducible makes the vectors again from their seeds and
// requires the same bytes, so that any change of a format, or of how the
// code uses its randomness, shows here. (The Go release may change how
// crypto/... draws randomness; then regenerate with -update and check with
// TestVectorsOpen that the old bytes still open.)
func TestVectorsReproducible(t *testing.T) {
	got := []vector{makeVector(t, sealedbox.MLKEM768X25519(), 1), makeVector(t, sealedbox.X25519(), 2)}
	sealtest.CheckVectors(t, vectorsFile, *update, got)
}

// TestVectorsOpen reads the stored vectors, which does not depend on
// randomness: the formats stay readable.
func TestVectorsOpen(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Suite, func(t *testing.T) {
			priv, err := sealedbox.ParsePrivateKey(v.PrivateKey)
			require.NoError(t, err)
			pub, err := sealedbox.ParsePublicKey(v.PublicKey)
			require.NoError(t, err)
			require.Equal(t, v.KeyID, pub.KeyID().String())

			key, err := ParseKey(v.KeyText)
			require.NoError(t, err)
			require.Equal(t, v.Key, hex.EncodeToString(key.b[:]))
			require.Equal(t, v.WrappedKey, hex.EncodeToString(wrappedBinary(t, v.WrappedKeyText)))
			un, err := UnwrapPrivateKey(key, v.WrappedKeyText, pub)
			require.NoError(t, err)
			require.Equal(t, must(priv.MarshalBinary()), must(un.MarshalBinary()))

			r, err := NewReceiver(key, unhex(t, v.MessageContext), 0)
			require.NoError(t, err)
			mpt, seq, err := r.Open(unhex(t, v.Message))
			require.NoError(t, err)
			require.Equal(t, v.MessageSeq, seq)
			require.Equal(t, v.MessagePlain, hex.EncodeToString(mpt))
		})
	}
}
