package lexical

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAppendBase64Canonical: every byte string has exactly one encoding
// that AppendBase64 accepts, and it is RFC 7515's (unpadded base64url).
func TestAppendBase64Canonical(t *testing.T) {
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		s := base64.RawURLEncoding.EncodeToString(b)
		got, err := AppendBase64([]byte("x"), s)
		require.NoError(t, err)
		require.Equal(t, append([]byte("x"), b...), got, "appends to dst")
	}
	for _, bad := range []string{
		"A",          // a length no encoding has
		"AB",         // trailing bits set: "AA" is the encoding of 0x00
		"AAB",        // likewise for two bytes
		"AA==",       // padding
		"AA\nAA",     // a newline, which encoding/base64 skips even in Strict mode
		"AA\rAAA",    // a carriage return
		"AA AA",      // a space
		"AA+/",       // the standard alphabet
		"AA\x00A",    // a NUL
		"AAAA\xffAA", // a byte above ASCII
	} {
		_, err := AppendBase64(nil, bad)
		require.ErrorIs(t, err, ErrBase64, "%q", bad)
	}
}

func TestTokenID(t *testing.T) {
	id, ok := TokenID("AAECAwQFBgcICQoLDA0ODw")
	require.True(t, ok)
	require.Equal(t, [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, id)
	for _, bad := range []string{"", "AAECAwQFBgcICQoLDA0OD", "AAECAwQFBgcICQoLDA0ODw0", "AAECAwQFBgcICQoLDA0ODx", "AAECAwQFBgcICQoLDA0OD+"} {
		_, ok := TokenID(bad)
		require.False(t, ok, "%q", bad)
	}
}

func TestPrefixIDCharsText(t *testing.T) {
	require.True(t, Prefix(""))
	require.True(t, Prefix("lt_"))
	require.True(t, Prefix(strings.Repeat("a", 16)))
	require.False(t, Prefix(strings.Repeat("a", 17)))
	require.False(t, Prefix("lt-"))

	require.True(t, IDChars("a-b.c", 5, "-."))
	require.False(t, IDChars("a-b.c", 4, "-."))
	require.False(t, IDChars("", 4, ""))
	require.False(t, IDChars("a/b", 4, "-."))

	require.True(t, Text("user 42 — ünïcode", 256))
	require.False(t, Text("", 256))
	require.False(t, Text(strings.Repeat("a", 257), 256))
	for _, c := range []string{"\n", "\r", "\x00", "\x7f", "\u0085", "\u2028", "\u2029"} {
		require.False(t, Text("a"+c+"b", 256), "%q", c)
	}
}

// FuzzAppendBase64 checks AppendBase64 against encoding/base64: it accepts
// exactly the strings that RawURLEncoding.Strict decodes and that hold no
// newline or carriage return, and decodes them alike.
func FuzzAppendBase64(f *testing.F) {
	for _, s := range []string{"", "AA", "AAA", "AAAA", "AB", "AA==", "AA\nAA", "eyJhbGciOiJkaXIifQ", "_-_-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := AppendBase64(nil, s)
		want, werr := base64.RawURLEncoding.Strict().DecodeString(s)
		if strings.ContainsAny(s, "\r\n") {
			werr = ErrBase64
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: AppendBase64 error %v, encoding/base64 error %v", s, err, werr)
		}
		if err == nil && string(got) != string(want) {
			t.Fatalf("%q: decoded %x, want %x", s, got, want)
		}
	})
}
