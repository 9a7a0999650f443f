package sealedbox

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/stretchr/testify/require"
)

// TestMLDSA65KeyGenVectors derives signing keys from the 25 ML-DSA-65
// key generation seeds of NIST's ACVP vectors (FIPS 204 keyGen, AFT) the way
// a signing key is loaded, and requires the published public keys: the
// seed in a signing key means what FIPS 204 says it means. Signing and
// verifying with the pure (external) interface are checked against an
// independent implementation in TestInteropNodeMLDSA65.
func TestMLDSA65KeyGenVectors(t *testing.T) {
	data, err := os.ReadFile("testdata/acvp-mldsa65-keygen.json")
	require.NoError(t, err)
	var file struct {
		Tests []struct {
			TcID int    `json:"tcId"`
			Seed string `json:"seed"`
			Pk   string `json:"pk"`
		} `json:"tests"`
	}
	require.NoError(t, json.Unmarshal(data, &file))
	require.Len(t, file.Tests, 25)
	for _, tc := range file.Tests {
		seed := unhex(t, tc.Seed)
		// A hybrid signing key of that ML-DSA seed and an arbitrary Ed25519 seed.
		k, err := newSigningKey(MLDSA65Ed25519(), append(seed, make([]byte, 32)...))
		require.NoError(t, err)
		vk := must(k.VerifyingKey().MarshalBinary())
		require.Equal(t, tc.Pk, hex.EncodeToString(vk[3+1+schemeIDSize:3+1+schemeIDSize+mldsa65.PublicKeySize]), "tcId %d", tc.TcID)
	}
}
