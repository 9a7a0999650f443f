package sealedbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/reason"
	"github.com/stretchr/testify/require"
)

func TestE2EKeyText(t *testing.T) {
	k := GenerateE2EKey()
	text, err := E2EKeyText(k)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(text, "latch_e2e_"), text)
	require.Len(t, text, 64)
	got, err := ParseE2EKey(text)
	require.NoError(t, err)
	require.Equal(t, k, got)
	got[0] ^= 1
	again, _ := ParseE2EKey(text)
	require.Equal(t, k, again, "the parsed key is a copy")

	_, err = E2EKeyText(k[:31])
	require.ErrorIs(t, err, errE2EKeySize)

	// A text with a valid checksum over a wrong binary.
	withSum := func(bin []byte) string { return string(appendKeyText(nil, e2eKeyPrefix, bin)) }
	bin := append([]byte("LSX\x01"), k...)
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
		"magic":           withSum(append([]byte("LSW\x01"), k...)),
		"version 2":       withSum(v2),
		"31 bytes":        withSum(bin[:len(bin)-1]),
		"33 bytes":        withSum(append(bytes.Clone(bin), 0)),
		"header only":     withSum(bin[:4]),
		"shorter than 4":  withSum(bin[:3]),
		"not canonical":   noncanonical(t, text),
		"wrapped key txt": wrappedText(t),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParseE2EKey(bad)
			require.ErrorIs(t, err, ErrInvalidKey)
			require.Nil(t, k)
			requireNoKeyMaterial(t, err, bad)
		})
	}
	_, err = ParseE2EKey(withSum(v2))
	require.ErrorIs(t, err, errUnsupportedVersion)
}

func TestWrappedKeyText(t *testing.T) {
	e2e := GenerateE2EKey()
	for _, s := range []*Suite{MLKEM768X25519(), X25519()} {
		t.Run(s.name, func(t *testing.T) {
			priv := must(s.GenerateKey())
			wrapped := must(WrapPrivateKey(e2e, priv))
			text, err := WrappedKeyText(wrapped)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(text, "latch_wk_"+s.name+"_"), text)
			require.Len(t, text, len("latch_wk_"+s.name+"_")+158)
			got, err := ParseWrappedKey(text)
			require.NoError(t, err)
			require.Equal(t, wrapped, got)
			un, err := UnwrapPrivateKey(e2e, got, priv.PublicKey())
			require.NoError(t, err)
			require.True(t, un.PublicKey().Equal(priv.PublicKey()))
			require.Equal(t, priv.raw, un.raw)
		})
	}

	priv := must(X25519().GenerateKey())
	wrapped := must(WrapPrivateKey(e2e, priv))
	text := must(WrappedKeyText(wrapped))
	withSum := func(prefix string, bin []byte) string { return string(appendKeyText(nil, prefix, bin)) }
	v2 := bytes.Clone(wrapped)
	v2[3] = 2
	e2eText := must(E2EKeyText(e2e))
	pub, privText := newTestKeyPair(t)
	for name, bad := range map[string]string{
		"empty":              "",
		"public key":         pub,
		"private key":        privText,
		"end-to-end key":     e2eText,
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
			w, err := ParseWrappedKey(bad)
			require.ErrorIs(t, err, ErrInvalidKey)
			require.Nil(t, w)
			requireNoKeyMaterial(t, err, bad)
		})
	}

	for name, bad := range map[string][]byte{
		"nil": nil, "short": wrapped[:len(wrapped)-1], "version 2": v2,
		"private key": must(priv.MarshalBinary()), "text": []byte(text),
	} {
		_, err := WrappedKeyText(bad)
		require.ErrorIs(t, err, ErrInvalidKey, name)
	}
}

func newTestKeyPair(t *testing.T) (pub, priv string) {
	k := must(X25519().GenerateKey())
	return k.PublicKey().String(), string(must(k.MarshalText()))
}

func wrappedText(t *testing.T) string {
	k := must(X25519().GenerateKey())
	return must(WrappedKeyText(must(WrapPrivateKey(GenerateE2EKey(), k))))
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

// requireNoKeyMaterial: the error names no part of the text it refused.
func requireNoKeyMaterial(t *testing.T, err error, text string) {
	t.Helper()
	_, body, _ := strings.Cut(text, "_")
	for i := 0; i+12 <= len(body); i++ {
		if strings.Contains(err.Error(), body[i:i+12]) {
			t.Fatalf("the error shows the key: %v", err)
		}
	}
	require.True(t, strings.HasPrefix(err.Error(), "sealedbox: "), err.Error())
	var re *reason.Fault
	require.True(t, errors.As(err, &re))
}
