package sealedbox

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"github.com/stretchr/testify/require"
)

func allSchemes() []*SignatureScheme { return []*SignatureScheme{MLDSA65Ed25519(), Ed25519()} }

func TestSignatureSchemeSizes(t *testing.T) {
	require.Equal(t, "MLDSA65Ed25519", MLDSA65Ed25519().String())
	require.Equal(t, "Ed25519", Ed25519().String())
	require.Equal(t, 3407, MLDSA65Ed25519().Overhead())
	require.Equal(t, 98, Ed25519().Overhead())
	var zero SignatureScheme
	require.Equal(t, "invalid signature scheme", zero.String())
	_, err := zero.GenerateSigningKey()
	require.Error(t, err)

	k, err := GenerateSigningKey()
	require.NoError(t, err)
	require.Same(t, MLDSA65Ed25519(), k.Scheme())
	require.Equal(t, k.KeyID(), k.VerifyingKey().KeyID())
}

// TestSigningKeyEncodingsRoundTrip: parse-then-marshal gives the same bytes
// for both encodings of both kinds of signing key, and the key id is
// SHA-256 of the verifying key's binary encoding.
func TestSigningKeyEncodingsRoundTrip(t *testing.T) {
	for _, s := range allSchemes() {
		t.Run(s.String(), func(t *testing.T) {
			k, err := s.GenerateSigningKey()
			require.NoError(t, err)
			vk := k.VerifyingKey()

			vtext := vk.String()
			require.True(t, strings.HasPrefix(vtext, "latch_vk_"+s.name+"_"))
			v2, err := ParseVerifyingKey(vtext)
			require.NoError(t, err)
			require.True(t, v2.Equal(vk))
			require.Equal(t, vtext, v2.String())
			vbin := must(vk.MarshalBinary())
			require.Len(t, vbin, 3+1+schemeIDSize+s.pubSize)
			require.Equal(t, KeyID(sha256Sum(vbin)), vk.KeyID())
			var v3 VerifyingKey
			require.NoError(t, v3.UnmarshalBinary(vbin))
			require.True(t, v3.Equal(vk))

			stext := string(must(k.MarshalText()))
			require.True(t, strings.HasPrefix(stext, "latch_sigk_"+s.name+"_"))
			k2, err := ParseSigningKey(stext)
			require.NoError(t, err)
			require.Equal(t, stext, string(must(k2.MarshalText())))
			require.True(t, k2.VerifyingKey().Equal(vk))
			sbin := must(k.MarshalBinary())
			require.Len(t, sbin, 3+1+schemeIDSize+s.seedSize)
			var k3 SigningKey
			require.NoError(t, k3.UnmarshalBinary(sbin))
			require.True(t, k3.VerifyingKey().Equal(vk))
		})
	}
	require.LessOrEqual(t, len(must(must(GenerateSigningKey()).VerifyingKey().MarshalText())), verifyingKeyForm.MaxText())
}

// TestSigningKeyParseRefusals: the text and binary encodings of signing keys
// are refused when mistyped, of the other kind, of a sealing key, or of an
// unknown scheme, with ErrInvalidKey and no key material in the message.
func TestSigningKeyParseRefusals(t *testing.T) {
	k, err := GenerateSigningKey()
	require.NoError(t, err)
	ek, err := Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	box, err := X25519().GenerateKey()
	require.NoError(t, err)
	vtext, stext := k.VerifyingKey().String(), string(must(k.MarshalText()))
	etext := ek.VerifyingKey().String()
	vbin := must(k.VerifyingKey().MarshalBinary())
	ebin := must(ek.VerifyingKey().MarshalBinary())

	texts := map[string]string{
		"empty":            "",
		"signing key":      stext,
		"sealing key":      box.PublicKey().String(),
		"unknown scheme":   "latch_vk_mldsa44_" + strings.TrimPrefix(etext, "latch_vk_ed25519_"),
		"cross prefix":     "latch_vk_mldsa65ed25519_" + strings.TrimPrefix(etext, "latch_vk_ed25519_"),
		"typo":             etext[:30] + string('A'+(etext[30]-'A'+1)%26) + etext[31:],
		"truncated":        vtext[:len(vtext)-1],
		"trailing newline": etext + "\n",
		"two schemes":      string(keyform.AppendText(nil, "latch_vk_ed25519_", vbin)),
		"far too long":     vtext + strings.Repeat("A", 4000),
	}
	for name, text := range texts {
		t.Run("verifying/"+name, func(t *testing.T) {
			_, err := ParseVerifyingKey(text)
			require.ErrorIs(t, err, ErrInvalidKey)
			if len(text) > 20 {
				require.NotContains(t, err.Error(), text[len(text)-20:])
			}
		})
	}
	for name, text := range map[string]string{"verifying key": vtext, "sealing key": string(must(box.MarshalText())), "truncated": stext[:len(stext)-2]} {
		t.Run("signing/"+name, func(t *testing.T) {
			_, err := ParseSigningKey(text)
			require.ErrorIs(t, err, ErrInvalidKey)
			require.NotContains(t, err.Error(), stext[len(stext)-20:])
		})
	}
	badScheme := append([]byte(nil), ebin...)
	badScheme[5] = 9
	badVersion := append([]byte(nil), ebin...)
	badVersion[3] = 2
	for name, tc := range map[string]struct {
		data   []byte
		reason error
	}{
		"scheme":               {badScheme, errUnsupportedSuite},
		"version":              {badVersion, errUnsupportedVersion},
		"short":                {ebin[:len(ebin)-1], nil},
		"long":                 {append(append([]byte(nil), ebin...), 0), nil},
		"signing as verifying": {must(ek.MarshalBinary()), nil},
		"sealing key":          {must(box.PublicKey().MarshalBinary()), nil},
		"nil":                  {nil, nil},
	} {
		t.Run("binary/"+name, func(t *testing.T) {
			err := new(VerifyingKey).UnmarshalBinary(tc.data)
			require.ErrorIs(t, err, ErrInvalidKey)
			if tc.reason != nil {
				require.ErrorIs(t, err, tc.reason)
			}
		})
	}
}

// TestSigningKeyPrintsNoSecret: fmt verbs on a signing key never show the
// secret bytes or their text encoding.
func TestSigningKeyPrintsNoSecret(t *testing.T) {
	for _, s := range allSchemes() {
		k, err := s.GenerateSigningKey()
		require.NoError(t, err)
		secretHex := hex.EncodeToString(k.seed)
		secretText := string(must(k.MarshalText()))
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			out := fmt.Sprintf(verb, k)
			require.NotContains(t, out, secretHex[:16], verb)
			require.NotContains(t, out, secretText[30:50], verb)
		}
		out := fmt.Sprintf("%+v", struct{ K *SigningKey }{k})
		require.NotContains(t, out, secretHex[:16])
	}
	require.Equal(t, "sealedbox.SigningKey(invalid)", new(SigningKey).String())
}

func TestZeroSigningKeysDoNotPanic(t *testing.T) {
	var vk VerifyingKey
	var sk SigningKey
	_, err := vk.MarshalText()
	require.Error(t, err)
	_, err = sk.MarshalBinary()
	require.Error(t, err)
	require.Equal(t, "invalid verifying key", vk.String())
	require.False(t, vk.Equal(&vk))
	pub := must(X25519().GenerateKey())
	_, err = SealSigned(pub.PublicKey(), &sk, nil, nil)
	require.Error(t, err)
	_, err = SealSigned(nil, must(Ed25519().GenerateSigningKey()), nil, nil)
	require.Error(t, err)
	_, _, err = OpenSigned(nil, nil, nil, nil)
	require.Error(t, err)
	// A zero verifying key among the signers is skipped, not used.
	env := must(SealSigned(pub.PublicKey(), must(Ed25519().GenerateSigningKey()), []byte("x"), nil))
	_, _, err = OpenSigned(pub, []*VerifyingKey{&vk, nil}, env, nil)
	require.ErrorIs(t, err, ErrUnknownSigner)
}
