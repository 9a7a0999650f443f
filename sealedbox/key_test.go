package sealedbox

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"github.com/stretchr/testify/require"
)

func allSuites() []*Suite { return []*Suite{MLKEM768X25519(), X25519()} }

func TestGenerateKeyDefault(t *testing.T) {
	k, err := GenerateKey()
	require.NoError(t, err)
	require.Same(t, MLKEM768X25519(), k.Suite())
	require.Same(t, MLKEM768X25519(), k.PublicKey().Suite())
	require.Equal(t, k.KeyID(), k.PublicKey().KeyID())

	k2, err := GenerateKey()
	require.NoError(t, err)
	require.NotEqual(t, k.KeyID(), k2.KeyID())
}

func TestSuiteSizes(t *testing.T) {
	require.Equal(t, "MLKEM768X25519", MLKEM768X25519().String())
	require.Equal(t, "X25519", X25519().String())
	require.Equal(t, 1178, MLKEM768X25519().Overhead())
	require.Equal(t, 90, X25519().Overhead())
	var zero Suite
	require.Equal(t, "invalid suite", zero.String())
	_, err := zero.GenerateKey()
	require.Error(t, err)
}

// TestKeyEncodingsRoundTrip checks that parse-then-marshal gives the same
// bytes for both encodings of both kinds of key, and that the key id is
// SHA-256 of the public key's binary encoding.
func TestKeyEncodingsRoundTrip(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			pub := priv.PublicKey()

			ptext := must(pub.MarshalText())
			require.True(t, strings.HasPrefix(string(ptext), "latch_pk_"+s.name+"_"))
			require.Equal(t, string(ptext), pub.String())
			p2, err := ParsePublicKey(string(ptext))
			require.NoError(t, err)
			require.Equal(t, ptext, must(p2.MarshalText()))
			require.True(t, p2.Equal(pub))
			require.Equal(t, pub.KeyID(), p2.KeyID())

			pbin := must(pub.MarshalBinary())
			require.Len(t, pbin, keyHeaderSize+s.pubSize)
			var p3 PublicKey
			require.NoError(t, p3.UnmarshalBinary(pbin))
			require.Equal(t, pbin, must(p3.MarshalBinary()))
			require.Equal(t, KeyID(sha256Sum(pbin)), pub.KeyID())

			stext := must(priv.MarshalText())
			require.True(t, strings.HasPrefix(string(stext), "latch_sk_"+s.name+"_"))
			s2, err := ParsePrivateKey(string(stext))
			require.NoError(t, err)
			require.Equal(t, stext, must(s2.MarshalText()))
			require.True(t, s2.PublicKey().Equal(pub))

			sbin := must(priv.MarshalBinary())
			require.Len(t, sbin, keyHeaderSize+privSize)
			var s3 PrivateKey
			require.NoError(t, s3.UnmarshalBinary(sbin))
			require.Equal(t, sbin, must(s3.MarshalBinary()))
		})
	}
}

// TestX25519ScalarKeptAsGiven: an X25519 private key encodes back to the
// scalar it was made from, clamped or not, and both forms are the same key.
func TestX25519ScalarKeptAsGiven(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i*7 + 3)
	}
	raw[0] |= 7    // not clamped
	raw[31] |= 128 // not clamped
	k, err := newPrivateKey(X25519(), raw)
	require.NoError(t, err)
	require.Equal(t, raw, k.raw)
	clamped := append([]byte(nil), raw...)
	clamped[0] &= 248
	clamped[31] &= 127
	clamped[31] |= 64
	kc, err := newPrivateKey(X25519(), clamped)
	require.NoError(t, err)
	require.True(t, k.PublicKey().Equal(kc.PublicKey()))
}

func TestKeyJSON(t *testing.T) {
	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	type record struct {
		Public  *PublicKey  `json:"publicKey"`
		Private *PrivateKey `json:"privateKey"`
	}
	data, err := json.Marshal(record{priv.PublicKey(), priv})
	require.NoError(t, err)
	require.Contains(t, string(data), `"publicKey":"latch_pk_x25519_`)
	var back record
	require.NoError(t, json.Unmarshal(data, &back))
	require.True(t, back.Public.Equal(priv.PublicKey()))
	require.True(t, back.Private.PublicKey().Equal(priv.PublicKey()))

	// Keys swapped in the JSON are refused.
	swapped := strings.NewReplacer("publicKey", "privateKey", "privateKey", "publicKey").Replace(string(data))
	require.ErrorIs(t, json.Unmarshal([]byte(swapped), &back), ErrInvalidKey)
}

// TestKeyParseErrors: every malformed key is refused with ErrInvalidKey,
// and the error never contains the key.
func TestKeyParseErrors(t *testing.T) {
	priv, err := MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	pubText := priv.PublicKey().String()
	privText := string(must(priv.MarshalText()))
	xpriv, err := X25519().GenerateKey()
	require.NoError(t, err)
	xpubText := xpriv.PublicKey().String()
	pubBin := must(priv.PublicKey().MarshalBinary())
	privBin := must(priv.MarshalBinary())

	// Same payload, other suite's prefix: the checksum covers the prefix.
	crossPrefix := "latch_pk_x25519_" + strings.TrimPrefix(pubText, "latch_pk_mlkem768x25519_")
	// Flip one character of the payload.
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}

	publicTexts := map[string]string{
		"empty":             "",
		"private key":       privText,
		"x25519 private":    string(must(xpriv.MarshalText())),
		"no prefix":         strings.TrimPrefix(pubText, "latch_pk_mlkem768x25519_"),
		"unknown suite":     "latch_pk_p256_" + strings.TrimPrefix(xpubText, "latch_pk_x25519_"),
		"cross prefix":      crossPrefix,
		"typo":              flip(pubText, len(pubText)/2),
		"typo in checksum":  flip(xpubText, len(xpubText)-2),
		"truncated":         pubText[:len(pubText)-1],
		"extended":          pubText + "A",
		"newline inside":    xpubText[:40] + "\n" + xpubText[40:],
		"CRLF inside":       xpubText[:40] + "\r\n" + xpubText[40:],
		"trailing newline":  xpubText + "\n",
		"unused bits set":   xpubText[:len(xpubText)-1] + "x", // 62 characters carry 4 unused bits
		"two suites":        string(keyform.AppendText(nil, "latch_pk_x25519_", pubBin)),
		"private magic":     string(keyform.AppendText(nil, "latch_pk_mlkem768x25519_", append([]byte("LSS"), pubBin[3:]...))),
		"upper case prefix": strings.ToUpper(pubText[:9]) + pubText[9:],
		"padding":           xpubText + "==",
		"far too long":      pubText + strings.Repeat("A", 4000),
	}
	for name, text := range publicTexts {
		t.Run("public/"+name, func(t *testing.T) {
			_, err := ParsePublicKey(text)
			require.ErrorIs(t, err, ErrInvalidKey)
			if len(text) > 20 {
				require.NotContains(t, err.Error(), text[len(text)-20:])
			}
		})
	}
	privateTexts := map[string]string{
		"public key": pubText,
		"typo":       flip(privText, 30),
		"truncated":  privText[:len(privText)-2],
	}
	for name, text := range privateTexts {
		t.Run("private/"+name, func(t *testing.T) {
			_, err := ParsePrivateKey(text)
			require.ErrorIs(t, err, ErrInvalidKey)
			require.NotContains(t, err.Error(), privText[len(privText)-20:])
		})
	}

	badVersion := append([]byte(nil), pubBin...)
	badVersion[3] = 2
	badSuite := append([]byte(nil), pubBin...)
	badSuite[5] = 0x41 // KEM 0x0041, ML-KEM-768 alone
	crossSuite := append([]byte(nil), privBin...)
	copy(crossSuite[4:], X25519().id[:]) // an X-Wing seed is also 32 bytes: valid
	binaries := []struct {
		name   string
		data   []byte
		public bool
		reason error
	}{
		{"private as public", privBin, true, nil},
		{"public as private", pubBin, false, nil},
		{"version", badVersion, true, errUnsupportedVersion},
		{"suite", badSuite, true, errUnsupportedSuite},
		{"short public", pubBin[:len(pubBin)-1], true, nil},
		{"long public", append(append([]byte(nil), pubBin...), 0), true, nil},
		{"short private", privBin[:len(privBin)-1], false, nil},
		{"header only", pubBin[:keyHeaderSize], true, nil},
		{"no magic", append([]byte("XYZ"), pubBin[3:]...), true, nil},
		{"ML-KEM key out of range", append(bytes.Clone(pubBin[:keyHeaderSize]), bytes.Repeat([]byte{0xff}, 1216)...), true, nil},
		{"nil", nil, true, nil},
	}
	for _, tc := range binaries {
		t.Run("binary/"+tc.name, func(t *testing.T) {
			var err error
			if tc.public {
				err = new(PublicKey).UnmarshalBinary(tc.data)
			} else {
				err = new(PrivateKey).UnmarshalBinary(tc.data)
			}
			require.ErrorIs(t, err, ErrInvalidKey)
			if tc.reason != nil {
				require.ErrorIs(t, err, tc.reason)
			}
		})
	}
	// The seed of one suite read as the other suite's key is a valid key
	// with another public key: the key id tells them apart.
	var other PrivateKey
	require.NoError(t, other.UnmarshalBinary(crossSuite))
	require.NotEqual(t, priv.KeyID(), other.KeyID())
}

func TestZeroKeysDoNotPanic(t *testing.T) {
	var pub PublicKey
	var priv PrivateKey
	_, err := pub.MarshalText()
	require.Error(t, err)
	_, err = pub.MarshalBinary()
	require.Error(t, err)
	require.Equal(t, "invalid public key", pub.String())
	_, err = priv.MarshalText()
	require.Error(t, err)
	_, err = priv.MarshalBinary()
	require.Error(t, err)
	require.False(t, pub.Equal(&pub))
	_, err = Seal(&pub, nil, nil)
	require.Error(t, err)
	_, err = Seal(nil, nil, nil)
	require.Error(t, err)
	_, err = Open(&priv, nil, nil)
	require.Error(t, err)
	_, err = Open(nil, nil, nil)
	require.Error(t, err)
}

// TestPrivateKeyPrintsNoSecret: fmt verbs on a private key never show the
// secret bytes or their text encoding.
func TestPrivateKeyPrintsNoSecret(t *testing.T) {
	for _, s := range allSuites() {
		priv, err := s.GenerateKey()
		require.NoError(t, err)
		secretHex := hex.EncodeToString(priv.raw)
		secretText := string(must(priv.MarshalText()))
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			out := fmt.Sprintf(verb, priv)
			require.NotContains(t, out, secretHex[:16], verb)
			require.NotContains(t, out, secretText[20:40], verb)
			require.NotContains(t, out, fmt.Sprint(priv.raw[:4]), verb)
		}
		require.Contains(t, fmt.Sprint(priv), priv.KeyID().String()[:16])
		// Inside a struct too.
		out := fmt.Sprintf("%+v", struct{ K *PrivateKey }{priv})
		require.NotContains(t, out, secretHex[:16])
	}
	require.Equal(t, "sealedbox.PrivateKey(invalid)", new(PrivateKey).String())
}
