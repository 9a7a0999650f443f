package sealedbox

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
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

	split := func(h string, sizes ...int) []string { return sealtest.SplitHex(t, h, sizes...) }
	want := []string{v.PrivateKey, v.PublicKey, v.KeyID,
		strings.Join(split(v.PrivateKeyBin, 3, 1, 6), " "),
		strings.Join(split(v.PublicKeyBin, 3, 1, 6), " "),
	}
	want = append(want, split(v.Envelope, 3, 1, 6, 32, 32)...)
	want = append(want, hex.EncodeToString([]byte(envelopeLabel))+" "+v.Envelope[:2*envelopeHeaderSize])
	want = append(want, string(unhex(t, v.Context)), string(unhex(t, v.Plaintext)))
	// Compare with line breaks as spaces, and say only what is missing.
	flat := strings.Join(strings.Fields(string(doc)), " ")
	for _, w := range want {
		require.True(t, strings.Contains(flat, w), "FORMAT.md lacks %q", w)
	}
	pub := unhex(t, v.PublicKeyBin)
	sum := "= " + hex.EncodeToString(keyform.Checksum("latch_pk_x25519_", pub))
	require.True(t, strings.Contains(flat, sum), "FORMAT.md lacks the checksum %q", sum)
	require.True(t, strings.Contains(flat, fmt.Sprintf("public key, is %d characters", maxKeyText)), "FORMAT.md lacks the longest key text, %d", maxKeyText)
}
