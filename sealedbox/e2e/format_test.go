package e2e

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

	want := []string{v.PrivateKey, v.KeyID, v.Key, v.KeyText, v.WrappedKeyText,
		string(unhex(t, v.MessageContext)), string(unhex(t, v.MessagePlain)),
		"`" + hex.EncodeToString(keyform.Checksum(keyPrefix, append([]byte("LSX\x01"), unhex(t, v.Key)...))) + "`",
		"`" + hex.EncodeToString(keyform.Checksum("latch_wk_x25519_", unhex(t, v.WrappedKey))) + "`",
		fmt.Sprintf("(%d characters)", keyTextSize),
		fmt.Sprintf("longer than %d (end-to-end key) or %d (wrapped key)", keyTextSize, wrappedForm.MaxText()),
		fmt.Sprintf("Always %d bytes", wrappedSize),
		fmt.Sprintf("Overhead: **%d bytes**", messageOverhead),
	}
	want = append(want, sealtest.SplitHex(t, v.WrappedKey, 3, 1, 6, 32, 24)...)
	want = append(want, sealtest.SplitHex(t, v.Message, 3, 1, 8, 24)...)
	// Compare with line breaks as spaces, and say only what is missing.
	flat := strings.Join(strings.Fields(string(doc)), " ")
	for _, w := range want {
		require.True(t, strings.Contains(flat, w), "FORMAT.md lacks %q", w)
	}
}
