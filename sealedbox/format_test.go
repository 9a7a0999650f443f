package sealedbox

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFormatDocExample checks that the worked example in FORMAT.md is the
// x25519 entry of testdata/vectors.json, field by field, so the document
// cannot drift from the code.
func TestFormatDocExample(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	require.NoError(t, err)
	v := loadVectors(t)[1]
	require.Equal(t, "X25519", v.Suite)

	split := func(h string, sizes ...int) []string { return splitHex(t, h, sizes...) }
	want := []string{v.PrivateKey, v.PublicKey, v.KeyID, v.E2EKey,
		strings.Join(split(v.PrivateKeyBin, 3, 1, 6), " "),
		strings.Join(split(v.PublicKeyBin, 3, 1, 6), " "),
	}
	want = append(want, split(v.Envelope, 3, 1, 6, 32, 32)...)
	want = append(want, split(v.WrappedKey, 3, 1, 6, 32, 24)...)
	want = append(want, split(v.Message, 3, 1, 8, 24)...)
	want = append(want, hex.EncodeToString([]byte(envelopeLabel))+" "+v.Envelope[:2*envelopeHeaderSize])
	want = append(want, string(unhex(t, v.Context)), string(unhex(t, v.MessageContext)),
		string(unhex(t, v.Plaintext)), string(unhex(t, v.MessagePlain)))
	// Compare with line breaks as spaces, and say only what is missing.
	flat := strings.Join(strings.Fields(string(doc)), " ")
	for _, w := range want {
		require.True(t, strings.Contains(flat, w), "FORMAT.md lacks %q", w)
	}
	// The text forms of the end-to-end key and of the wrapped key.
	e2e, wrapped := unhex(t, v.E2EKey), unhex(t, v.WrappedKey)
	want = append(want, must(E2EKeyText(e2e)), must(WrappedKeyText(wrapped)),
		"`"+hex.EncodeToString(keyChecksum(e2eKeyPrefix, append([]byte("LSX\x01"), e2e...)))+"`",
		"`"+hex.EncodeToString(keyChecksum("latch_wk_x25519_", wrapped))+"`")
	for _, w := range want {
		require.True(t, strings.Contains(flat, w), "FORMAT.md lacks %q", w)
	}
	require.True(t, strings.Contains(flat, fmt.Sprintf("(%d characters)", len(must(E2EKeyText(e2e))))))
	require.True(t, strings.Contains(flat, fmt.Sprintf("longer than %d (end-to-end key) or %d (wrapped key)", len(must(E2EKeyText(e2e))), wrappedKeyForm.maxText)))
	pub := unhex(t, v.PublicKeyBin)
	sum := "= " + hex.EncodeToString(keyChecksum("latch_pk_x25519_", pub))
	require.True(t, strings.Contains(flat, sum), "FORMAT.md lacks the checksum %q", sum)
	require.True(t, strings.Contains(flat, fmt.Sprintf("public key, is %d characters", maxKeyText)), "FORMAT.md lacks the longest key text, %d", maxKeyText)
}

// splitHex cuts hex into the documented fields: one per size, then the
// rest.
func splitHex(t *testing.T, h string, sizes ...int) []string {
	b := unhex(t, h)
	var out []string
	for _, n := range sizes {
		out = append(out, hex.EncodeToString(b[:n]))
		b = b[n:]
	}
	return append(out, hex.EncodeToString(b))
}
