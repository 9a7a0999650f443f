package e2e

import (
	"encoding/hex"
	"testing"

	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/internal/keyform"
	"github.com/stretchr/testify/require"
)

func allSuites() []*sealedbox.Suite {
	return []*sealedbox.Suite{sealedbox.MLKEM768X25519(), sealedbox.X25519()}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func hx(b []byte) string { return hex.EncodeToString(b) }

// wrappedBinary returns the wrapped key inside a wrapped key's text.
func wrappedBinary(t testing.TB, text string) []byte {
	t.Helper()
	return must(parseWrapped(text))
}

// wrappedTextOf returns the text form of the binary wrapped key w, with a
// valid checksum and the prefix of suite name, whatever w holds: what an
// attacker who changed w would store.
func wrappedTextOf(name string, w []byte) string {
	return string(keyform.AppendText(nil, wrappedForm.Prefix(name), w))
}

// keyText returns the text form of k.
func keyText(k *Key) string { return string(must(k.MarshalText())) }

// suiteName is the name of suite s in text prefixes.
func suiteName(s *sealedbox.Suite) string {
	if s == sealedbox.X25519() {
		return "x25519"
	}
	return "mlkem768x25519"
}

// keyformSuiteName is the name of the suite whose id a wrapped key w
// carries.
func keyformSuiteName(w []byte) string {
	return keyform.SuiteName(string(w[4:keyform.SuiteHeaderSize]))
}
