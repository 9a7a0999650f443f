package e2e

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"github.com/stretchr/testify/require"
)

func TestKeyText(t *testing.T) {
	k := GenerateKey()
	text := keyText(k)
	require.True(t, strings.HasPrefix(text, "latch_e2e_"), text)
	require.Len(t, text, 64)
	require.Len(t, text, keyTextSize)
	got, err := ParseKey(text)
	require.NoError(t, err)
	require.True(t, got.Equal(k))
	require.Equal(t, *k.b, *got.b)

	// A text with a valid checksum over a wrong binary.
	withSum := func(bin []byte) string { return string(keyform.AppendText(nil, keyPrefix, bin)) }
	bin := append([]byte("LSX\x01"), k.b[:]...)
	require.Equal(t, text, withSum(bin))
	v2 := bytes.Clone(bin)
	v2[3] = 2

	pub, priv := newTestKeyPair(t)
	for name, bad := range map[string]string{
		"empty":           "",
		"prefix only":     "latch_e2e_",
		"no prefix":       text[len("latch_e2e_"):],
		"public key":      pub,
		"private key":     priv,
		"typo":            text[:20] + flip(text[20]) + text[21:],
		"truncated":       text[:len(text)-1],
		"one more":        text + "A",
		"padded":          text + "==",
		"line break":      text[:30] + "\n" + text[30:],
		"upper prefix":    "LATCH_E2E_" + text[10:],
		"too long":        text + strings.Repeat("A", 100),
		"not base64url":   text[:40] + "+" + text[41:],
		"magic":           withSum(append([]byte("LSW\x01"), k.b[:]...)),
		"version 2":       withSum(v2),
		"31 bytes":        withSum(bin[:len(bin)-1]),
		"33 bytes":        withSum(append(bytes.Clone(bin), 0)),
		"header only":     withSum(bin[:4]),
		"shorter than 4":  withSum(bin[:3]),
		"not canonical":   noncanonical(t, text),
		"wrapped key txt": wrappedText(t),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParseKey(bad)
			require.ErrorIs(t, err, ErrInvalidKey)
			require.Nil(t, k)
			sealtest.RequireNoKeyMaterial(t, err, bad, "e2e: ")

			// UnmarshalText leaves the key as it was.
			before := GenerateKey()
			into := *before
			require.Error(t, into.UnmarshalText([]byte(bad)))
			require.True(t, into.Equal(before))
		})
	}
	_, err = ParseKey(withSum(v2))
	require.ErrorIs(t, err, errUnsupportedVersion)
}

// TestNewKey: NewKey takes exactly 32 bytes and copies them.
func TestNewKey(t *testing.T) {
	b := bytes.Repeat([]byte{7}, 32)
	k, err := NewKey(b)
	require.NoError(t, err)
	b[0] = 8
	require.Equal(t, byte(7), k.b[0], "the key is a copy")
	again, err := ParseKey(keyText(k))
	require.NoError(t, err)
	require.True(t, again.Equal(k))
	require.False(t, GenerateKey().Equal(k))
	require.NotEqual(t, *GenerateKey().b, *GenerateKey().b)

	for _, n := range []int{0, 16, 31, 33, 64} {
		k, err := NewKey(make([]byte, n))
		require.ErrorIs(t, err, ErrInvalidKey)
		require.ErrorIs(t, err, errKeySize)
		require.Nil(t, k)
	}
}

// TestKeySize: a key that is not one (zero or nil) is refused by every
// function, with ErrInvalidKey; none panics.
func TestKeySize(t *testing.T) {
	priv := must(sealedbox.X25519().GenerateKey())
	wrapped := must(WrapPrivateKey(GenerateKey(), priv))
	for name, k := range map[string]*Key{"nil": nil, "zero": new(Key)} {
		_, err := WrapPrivateKey(k, priv)
		require.ErrorIs(t, err, ErrInvalidKey, name)
		_, err = UnwrapPrivateKey(k, wrapped, priv.PublicKey())
		require.ErrorIs(t, err, ErrInvalidKey, name)
		_, err = NewSender(k, nil, 0)
		require.ErrorIs(t, err, ErrInvalidKey, name)
		_, err = NewReceiver(k, nil, 0)
		require.ErrorIs(t, err, ErrInvalidKey, name)
		_, err = k.MarshalText()
		require.ErrorIs(t, err, ErrInvalidKey, name)
		require.False(t, k.Equal(k), name)
		require.Equal(t, "e2e.Key(invalid)", k.String(), name)
	}
}

func TestZeroKeysDoNotPanic(t *testing.T) {
	var pub sealedbox.PublicKey
	var priv sealedbox.PrivateKey
	_, err := WrapPrivateKey(GenerateKey(), &priv)
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = WrapPrivateKey(GenerateKey(), nil)
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = UnwrapPrivateKey(GenerateKey(), "", &pub)
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = UnwrapPrivateKey(GenerateKey(), wrappedText(t), nil)
	require.ErrorIs(t, err, ErrInvalidKey)
}

// TestKeyPrintsNoSecret: fmt verbs on a key, alone or in a struct, never
// show its bytes or its text form.
func TestKeyPrintsNoSecret(t *testing.T) {
	k := GenerateKey()
	secretHex := hex.EncodeToString(k.b[:])
	text := keyText(k)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for _, v := range []any{k, *k, struct{ K *Key }{k}, struct{ K Key }{*k}, []*Key{k}} {
			out := fmt.Sprintf(verb, v)
			require.NotContains(t, out, secretHex[:16], verb)
			require.NotContains(t, out, text[20:40], verb)
			require.NotContains(t, out, fmt.Sprint(k.b[:4]), verb)
		}
	}
	require.Equal(t, "e2e.Key(…)", k.String())
}

// TestKeyJSON: a key in a JSON document is its text form, and reads back.
func TestKeyJSON(t *testing.T) {
	type config struct {
		Key *Key `json:"key"`
	}
	k := GenerateKey()
	b, err := json.Marshal(config{k})
	require.NoError(t, err)
	require.Equal(t, `{"key":"`+keyText(k)+`"}`, string(b))
	var c config
	require.NoError(t, json.Unmarshal(b, &c))
	require.True(t, c.Key.Equal(k))
	err = json.Unmarshal([]byte(`{"key":"latch_e2e_AAAA"}`), &c)
	require.ErrorIs(t, err, ErrInvalidKey)
}

func newTestKeyPair(t *testing.T) (pub, priv string) {
	k := must(sealedbox.X25519().GenerateKey())
	return k.PublicKey().String(), string(must(k.MarshalText()))
}

func wrappedText(t *testing.T) string {
	k := must(sealedbox.X25519().GenerateKey())
	return must(WrapPrivateKey(GenerateKey(), k))
}

// flip changes one base64url character into another.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// noncanonical changes the unused low bits of the last character, which a
// lenient decoder ignores.
func noncanonical(t *testing.T, text string) string {
	last := text[len(text)-1]
	i := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
	require.GreaterOrEqual(t, i, 0)
	// 40 and 118 bytes (with the checksum) leave 4 unused bits in the last
	// character: flip the lowest.
	return text[:len(text)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i^1])
}
