package e2e

import (
	"bytes"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"github.com/stretchr/testify/require"
)

func TestWrapUnwrap(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			key := GenerateKey()
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			text, err := WrapPrivateKey(key, priv)
			require.NoError(t, err)
			w := wrappedBinary(t, text)
			require.Len(t, w, wrappedSize)
			require.Equal(t, 114, len(w))
			raw := must(priv.MarshalBinary())[keyform.SuiteHeaderSize:]
			require.NotContains(t, string(w), string(raw), "the key is not in the clear")

			got, err := UnwrapPrivateKey(key, text, priv.PublicKey())
			require.NoError(t, err)
			require.Equal(t, must(priv.MarshalBinary()), must(got.MarshalBinary()))

			// The unwrapped key opens what is sealed to the public key.
			env := must(sealedbox.Seal(priv.PublicKey(), []byte("request"), []byte("r1")))
			pt, err := sealedbox.Open(got, env, []byte("r1"))
			require.NoError(t, err)
			require.Equal(t, "request", string(pt))

			// Two wraps of the same key differ (random nonce).
			require.NotEqual(t, text, must(WrapPrivateKey(key, priv)))
		})
	}
}

func TestUnwrapRefusals(t *testing.T) {
	key := GenerateKey()
	priv, err := sealedbox.MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	pub := priv.PublicKey()
	text := must(WrapPrivateKey(key, priv))
	w := wrappedBinary(t, text)
	const name = "mlkem768x25519"

	// The cloud's own key pairs, of both suites, to swap in.
	cloud, err := sealedbox.MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	cloudX, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)

	// A blob whose header names pub but whose content is another private
	// key, sealed under the right end-to-end key: only someone holding the
	// end-to-end key can make it, and the public key check still catches it.
	cloudBin := must(cloud.MarshalBinary())
	inner := wrappedTextOf(name, wrap(key, string(cloudBin[4:keyform.SuiteHeaderSize]), pub.KeyID(), cloudBin[keyform.SuiteHeaderSize:]))

	// A blob re-labelled with the cloud key's id, with a valid checksum:
	// the header is authenticated, so it does not open.
	relabelled := bytes.Clone(w)
	cid := cloud.KeyID()
	copy(relabelled[keyform.SuiteHeaderSize:], cid[:])

	with := func(i int, v byte) string {
		c := bytes.Clone(w)
		c[i] = v
		return wrappedTextOf(name, c)
	}
	for _, tc := range []struct {
		name    string
		key     *Key
		wrapped string
		pub     *sealedbox.PublicKey
		want    []error
		notWant []error
	}{
		{"swapped public key", key, text, cloud.PublicKey(), []error{ErrKeyMismatch}, []error{ErrOpen}},
		{"swapped for other suite", key, text, cloudX.PublicKey(), []error{ErrKeyMismatch, errSuiteMismatch}, nil},
		{"other private key inside", key, inner, pub, []error{ErrKeyMismatch}, []error{ErrOpen}},
		{"another wrapped key of the same person", key, must(WrapPrivateKey(key, cloud)), pub, []error{ErrKeyMismatch}, []error{ErrOpen}},
		{"re-labelled for swapped key", key, wrappedTextOf(name, relabelled), cloud.PublicKey(), []error{ErrOpen}, []error{ErrKeyMismatch}},
		{"wrong e2e key", GenerateKey(), text, pub, []error{ErrOpen}, []error{ErrKeyMismatch}},
		{"flipped ciphertext", key, with(len(w)-1, w[len(w)-1]^1), pub, []error{ErrOpen}, []error{ErrKeyMismatch, ErrInvalidKey}},
		{"unknown version", key, with(3, 2), pub, []error{ErrInvalidKey, errUnsupportedVersion}, []error{ErrOpen}},
		{"unknown suite", key, with(4, 0x77), pub, []error{ErrInvalidKey}, []error{ErrOpen}},
		{"bad magic", key, with(2, 'E'), pub, []error{ErrInvalidKey}, []error{ErrOpen}},
		{"truncated", key, wrappedTextOf(name, w[:len(w)-1]), pub, []error{ErrInvalidKey}, nil},
		{"extended", key, wrappedTextOf(name, append(bytes.Clone(w), 0)), pub, []error{ErrInvalidKey}, nil},
		{"empty", key, "", pub, []error{ErrInvalidKey}, nil},
		{"typo", key, sealtest.Typo(text), pub, []error{ErrInvalidKey}, nil},
		{"envelope", key, wrappedTextOf(name, must(sealedbox.Seal(pub, []byte("x"), nil))), pub, []error{ErrInvalidKey}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := UnwrapPrivateKey(tc.key, tc.wrapped, tc.pub)
			require.Nil(t, k)
			for _, e := range tc.want {
				require.ErrorIs(t, err, e)
			}
			for _, e := range tc.notWant {
				require.NotErrorIs(t, err, e)
			}
		})
	}
}

func TestWrappedKeyText(t *testing.T) {
	key := GenerateKey()
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			priv := must(s.GenerateKey())
			text, err := WrapPrivateKey(key, priv)
			require.NoError(t, err)
			prefix := "latch_wk_" + suiteName(s) + "_"
			require.True(t, strings.HasPrefix(text, prefix), text)
			require.Len(t, text, len(prefix)+158)
			require.Equal(t, text, wrappedTextOf(suiteName(s), wrappedBinary(t, text)), "parse-then-marshal")
			un, err := UnwrapPrivateKey(key, text, priv.PublicKey())
			require.NoError(t, err)
			require.True(t, un.PublicKey().Equal(priv.PublicKey()))
			require.Equal(t, must(priv.MarshalBinary()), must(un.MarshalBinary()))
		})
	}

	priv := must(sealedbox.X25519().GenerateKey())
	text := must(WrapPrivateKey(key, priv))
	wrapped := wrappedBinary(t, text)
	withSum := func(prefix string, bin []byte) string { return string(keyform.AppendText(nil, prefix, bin)) }
	v2 := bytes.Clone(wrapped)
	v2[3] = 2
	pub, privText := newTestKeyPair(t)
	for name, bad := range map[string]string{
		"empty":              "",
		"public key":         pub,
		"private key":        privText,
		"end-to-end key":     keyText(key),
		"typo":               text[:40] + flip(text[40]) + text[41:],
		"truncated":          text[:len(text)-4],
		"line break":         text[:60] + "\r\n" + text[60:],
		"too long":           text + strings.Repeat("A", 200),
		"suite prefix swap":  "latch_wk_mlkem768x25519_" + text[len("latch_wk_x25519_"):],
		"suite names differ": withSum("latch_wk_mlkem768x25519_", wrapped),
		"version 2":          withSum("latch_wk_x25519_", v2),
		"short":              withSum("latch_wk_x25519_", wrapped[:len(wrapped)-1]),
		"long":               withSum("latch_wk_x25519_", append(bytes.Clone(wrapped), 0)),
		"private key binary": withSum("latch_wk_x25519_", must(priv.MarshalBinary())),
		"not canonical":      noncanonical(t, text),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := UnwrapPrivateKey(key, bad, priv.PublicKey())
			require.ErrorIs(t, err, ErrInvalidKey)
			require.NotErrorIs(t, err, ErrOpen)
			require.Nil(t, k)
			sealtest.RequireNoKeyMaterial(t, err, bad, "e2e: ")
		})
	}
}
