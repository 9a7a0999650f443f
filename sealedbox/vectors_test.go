package sealedbox

import (
	"encoding/hex"
	"flag"
	"testing"
	"testing/cryptotest"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the current code")

// vector is one of Latch's own vectors in testdata/vectors.json: a key pair
// and an envelope, made from the deterministic randomness of
// cryptotest.SetGlobalRandom(Seed). (sealedbox/e2e's vectors go on from
// the same seeds: the end-to-end key, the wrapped key and a message.)
type vector struct {
	Suite         string `json:"suite"`
	Seed          uint64 `json:"seed"`
	PrivateKey    string `json:"private_key"`
	PublicKey     string `json:"public_key"`
	PrivateKeyBin string `json:"private_key_binary"`
	PublicKeyBin  string `json:"public_key_binary"`
	KeyID         string `json:"key_id"`
	Context       string `json:"context"`
	Plaintext     string `json:"plaintext"`
	Envelope      string `json:"envelope"`
}

const vectorsFile = "testdata/vectors.json"

// makeVector produces the vector of suite s from seed. It is the sequence of
// calls whose bytes the vectors pin down.
func makeVector(t *testing.T, s *Suite, seed uint64) vector {
	cryptotest.SetGlobalRandom(t, seed)
	v := vector{Suite: s.String(), Seed: seed}
	priv, err := s.GenerateKey()
	require.NoError(t, err)
	pub := priv.PublicKey()
	v.PrivateKey = string(must(priv.MarshalText()))
	v.PublicKey = pub.String()
	v.PrivateKeyBin = hex.EncodeToString(must(priv.MarshalBinary()))
	v.PublicKeyBin = hex.EncodeToString(must(pub.MarshalBinary()))
	v.KeyID = pub.KeyID().String()

	ctx := []byte("record 42/integration 7")
	pt := []byte(`{"method":"GET","url":"https://api.example.com/v1/state"}`)
	v.Context, v.Plaintext = hex.EncodeToString(ctx), hex.EncodeToString(pt)
	v.Envelope = hex.EncodeToString(must(Seal(pub, pt, ctx)))
	return v
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func loadVectors(t testing.TB) []vector { return sealtest.LoadVectors[vector](t, vectorsFile, 2) }

// TestVectorsReproducible makes the vectors again from their seeds and
// requires the same bytes, so that any change of a format, or of how the
// code uses its randomness, shows here. (The Go release may change how
// crypto/... draws randomness; then regenerate with -update and check with
// TestVectorsOpen that the old bytes still open.)
func TestVectorsReproducible(t *testing.T) {
	got := []vector{makeVector(t, MLKEM768X25519(), 1), makeVector(t, X25519(), 2)}
	sealtest.CheckVectors(t, vectorsFile, *update, got)
}

// TestVectorsOpen opens the stored vectors, which does not depend on
// randomness: the formats stay readable.
func TestVectorsOpen(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Suite, func(t *testing.T) {
			priv, err := ParsePrivateKey(v.PrivateKey)
			require.NoError(t, err)
			pub, err := ParsePublicKey(v.PublicKey)
			require.NoError(t, err)
			require.True(t, priv.PublicKey().Equal(pub))
			require.Equal(t, v.Suite, pub.Suite().String())
			require.Equal(t, v.KeyID, pub.KeyID().String())

			var pb PublicKey
			require.NoError(t, pb.UnmarshalBinary(unhex(t, v.PublicKeyBin)))
			require.True(t, pb.Equal(pub))
			var sb PrivateKey
			require.NoError(t, sb.UnmarshalBinary(unhex(t, v.PrivateKeyBin)))
			require.True(t, sb.PublicKey().Equal(pub))

			env := unhex(t, v.Envelope)
			require.Len(t, env, pub.Suite().Overhead()+len(unhex(t, v.Plaintext)))
			id, err := EnvelopeKeyID(env)
			require.NoError(t, err)
			require.Equal(t, v.KeyID, id.String())
			pt, err := Open(priv, env, unhex(t, v.Context))
			require.NoError(t, err)
			require.Equal(t, v.Plaintext, hex.EncodeToString(pt))
		})
	}
}
