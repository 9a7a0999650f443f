package pairing

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// rfcVector is one test vector of RFC 9383, Appendix C, hex-encoded as the
// RFC prints it.
type rfcVector struct {
	Context    string `json:"context"`
	IDProver   string `json:"idProver"`
	IDVerifier string `json:"idVerifier"`
	W0         string `json:"w0"`
	W1         string `json:"w1"`
	L          string `json:"L"`
	X          string `json:"x"`
	ShareP     string `json:"shareP"`
	Y          string `json:"y"`
	ShareV     string `json:"shareV"`
	Z          string `json:"Z"`
	V          string `json:"V"`
	TT         string `json:"TT"`
	KMain      string `json:"K_main"`
	KConfirmP  string `json:"K_confirmP"`
	KConfirmV  string `json:"K_confirmV"`
	ConfirmP   string `json:"confirmP"`
	ConfirmV   string `json:"confirmV"`
	KShared    string `json:"K_shared"`
}

func loadRFCVectors(t testing.TB) []rfcVector {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9383.json")
	require.NoError(t, err)
	var file struct {
		Vectors []rfcVector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestRFC9383Vectors computes every value of the RFC's vectors for this
// ciphersuite from w0, w1, x and y, on the prover's and on the verifier's
// side, and compares each with the RFC's.
func TestRFC9383Vectors(t *testing.T) {
	for _, v := range loadRFCVectors(t) {
		w0, w1, x, y := unhex(t, v.W0), unhex(t, v.W1), unhex(t, v.X), unhex(t, v.Y)
		require.True(t, validScalar(w0) && validScalar(w1) && validScalar(x) && validScalar(y))

		require.Equal(t, v.L, hex.EncodeToString(registration(w1)), "L")
		shareP := share(x, w0, pointM)
		require.Equal(t, v.ShareP, hex.EncodeToString(shareP), "shareP = X")
		shareV := share(y, w0, pointN)
		require.Equal(t, v.ShareV, hex.EncodeToString(shareV), "shareV = Y")

		zP, vP, ok := proverSecrets(x, w0, w1, shareV)
		require.True(t, ok)
		l, ok := parsePoint(unhex(t, v.L))
		require.True(t, ok)
		zV, vV, ok := verifierSecrets(y, w0, l, shareP)
		require.True(t, ok)
		for _, side := range []struct {
			name string
			z, v []byte
		}{{"prover", zP, vP}, {"verifier", zV, vV}} {
			require.Equal(t, v.Z, hex.EncodeToString(side.z), side.name+" Z")
			require.Equal(t, v.V, hex.EncodeToString(side.v), side.name+" V")
			tt := &transcript{
				context: unhex(t, v.Context), idProver: unhex(t, v.IDProver), idVerifier: unhex(t, v.IDVerifier),
				shareP: shareP, shareV: shareV, z: side.z, v: side.v, w0: w0,
			}
			require.Equal(t, v.TT, hex.EncodeToString(tt.bytes()), side.name+" TT")
			s := keySchedule(tt)
			require.Equal(t, v.KMain, hex.EncodeToString(s.kMain), side.name+" K_main")
			require.Equal(t, v.KConfirmP, hex.EncodeToString(s.kConfirmP), side.name+" K_confirmP")
			require.Equal(t, v.KConfirmV, hex.EncodeToString(s.kConfirmV), side.name+" K_confirmV")
			require.Equal(t, v.ConfirmP, hex.EncodeToString(s.confirmP), side.name+" confirmP")
			require.Equal(t, v.ConfirmV, hex.EncodeToString(s.confirmV), side.name+" confirmV")
			require.Equal(t, v.KShared, hex.EncodeToString(s.kShared), side.name+" K_shared")
		}
	}
}

// TestReduceWide checks the reduction of w0s and w1s modulo the group
// order on values whose result is known: p itself, p+1, 2^320-1.
func TestReduceWide(t *testing.T) {
	wide := func(b []byte) []byte { return append(make([]byte, wideSize-len(b)), b...) }
	require.Equal(t, make([]byte, scalarSize), reduceWide(wide(orderBytes)))
	pPlus1 := append([]byte(nil), orderBytes...)
	pPlus1[len(pPlus1)-1]++
	one := make([]byte, scalarSize)
	one[scalarSize-1] = 1
	require.Equal(t, one, reduceWide(wide(pPlus1)))
	// A value below p is unchanged.
	small := wide([]byte{0x12, 0x34})
	require.Equal(t, small[wideSize-scalarSize:], reduceWide(small))
	// 2^320 - 1 mod p, computed with Python integers.
	all := make([]byte, wideSize)
	for i := range all {
		all[i] = 0xff
	}
	require.Equal(t, "fffffffe00000001431905529c0166cd22159165b6faae70f756a571fc632550", hex.EncodeToString(reduceWide(all)))
}

// TestSharesRefused checks that points the group refuses, and a share that
// cancels the password's mask, fail before any secret is derived.
func TestSharesRefused(t *testing.T) {
	v := loadRFCVectors(t)[0]
	w0, w1, x, y := unhex(t, v.W0), unhex(t, v.W1), unhex(t, v.X), unhex(t, v.Y)
	l, _ := parsePoint(unhex(t, v.L))
	good := unhex(t, v.ShareV)
	offCurve := append([]byte(nil), good...)
	offCurve[40] ^= 1
	for name, bad := range map[string][]byte{
		"empty":      nil,
		"identity":   {0},
		"compressed": mulBase(x).BytesCompressed(),
		"truncated":  good[:64],
		"long":       append(append([]byte(nil), good...), 0),
		"off curve":  offCurve,
		"cancels N":  mul(pointN, w0).Bytes(),
		"cancels M":  mul(pointM, w0).Bytes(),
	} {
		_, _, okP := proverSecrets(x, w0, w1, bad)
		_, _, okV := verifierSecrets(y, w0, l, bad)
		if name == "cancels N" {
			require.False(t, okP, name)
			continue
		}
		if name == "cancels M" {
			require.False(t, okV, name)
			continue
		}
		require.False(t, okP, name)
		require.False(t, okV, name)
	}
}
