package sealedbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// hpkeVector is the recipient's half of an HPKE test vector, base mode.
type hpkeVector struct {
	Mode        int    `json:"mode"`
	KEM         uint16 `json:"kem_id"`
	KDF         uint16 `json:"kdf_id"`
	AEAD        uint16 `json:"aead_id"`
	Info        string `json:"info"`
	SkRm        string `json:"skRm"`
	PkRm        string `json:"pkRm"`
	Enc         string `json:"enc"`
	Encryptions []struct {
		Seq int    `json:"seq"`
		AAD string `json:"aad"`
		Pt  string `json:"pt"`
		Ct  string `json:"ct"`
	} `json:"encryptions"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestHPKEVectors opens the ciphertexts of RFC 9180 A.2.1 and of the
// draft-ietf-hpke-pq MLKEM768-X25519 vector with the vectors' recipient key,
// loaded and used the way Open loads and uses a key. crypto/hpke cannot fix
// the sender's ephemeral key, so the sender side is checked by the envelope
// vectors and the interop tests instead.
//
// The RFC also lists sequence numbers 4, 255 and 256; a crypto/hpke
// recipient context only advances by opening, so they cannot be reached
// without the ciphertexts in between, and an envelope only ever uses
// sequence number 0.
func TestHPKEVectors(t *testing.T) {
	for _, tc := range []struct {
		file  string
		suite *Suite
	}{
		{"rfc9180-a21.json", X25519()},
		{"hpke-pq-mlkem768x25519.json", MLKEM768X25519()},
	} {
		t.Run(tc.suite.String(), func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + tc.file)
			require.NoError(t, err)
			var v hpkeVector
			require.NoError(t, json.Unmarshal(data, &v))
			require.Equal(t, 0, v.Mode, "base mode")
			require.NotEmpty(t, v.Encryptions)

			// The suite is the vector's suite.
			var id [6]byte
			binary.BigEndian.PutUint16(id[0:], v.KEM)
			binary.BigEndian.PutUint16(id[2:], v.KDF)
			binary.BigEndian.PutUint16(id[4:], v.AEAD)
			require.Equal(t, id, tc.suite.id)
			require.Same(t, tc.suite, suiteByID(id[:]))

			priv, err := newPrivateKey(tc.suite, unhex(t, v.SkRm))
			require.NoError(t, err)
			require.Equal(t, v.PkRm, hex.EncodeToString(priv.PublicKey().enc[keyHeaderSize:]))
			raw, err := priv.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, v.SkRm, hex.EncodeToString(raw[keyHeaderSize:]), "private key bytes encode back as given")

			enc := unhex(t, v.Enc)
			require.Len(t, enc, tc.suite.encSize)
			r, err := priv.recipient(enc, unhex(t, v.Info))
			require.NoError(t, err)
			for i, e := range v.Encryptions {
				require.Equal(t, i, e.Seq, "consecutive sequence numbers from 0")
				ct := unhex(t, e.Ct)
				aad := unhex(t, e.AAD)
				pt, err := r.Open(aad, ct)
				require.NoError(t, err, "seq %d", e.Seq)
				require.Equal(t, e.Pt, hex.EncodeToString(pt), "seq %d", e.Seq)
			}

			// The same first ciphertext does not open with another AAD or
			// another info.
			first := v.Encryptions[0]
			r, err = priv.recipient(enc, unhex(t, v.Info))
			require.NoError(t, err)
			_, err = r.Open([]byte("other aad"), unhex(t, first.Ct))
			require.Error(t, err)
			r, err = priv.recipient(enc, []byte("other info"))
			require.NoError(t, err)
			_, err = r.Open(unhex(t, first.AAD), unhex(t, first.Ct))
			require.Error(t, err)
		})
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
