// Package sealtest holds what the tests of sealedbox and sealedbox/e2e
// share: the tamper loop, the refusal check, and the Node implementation of
// FORMAT.md (interop.mjs) with its runner.
package sealtest

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/internal/reason"
	"github.com/stretchr/testify/require"
)

// ErrAccepted is what Mutations reports for an input that was accepted.
var ErrAccepted = errors.New("accepted")

// Mutations calls refused for every single-byte change, truncation and
// extension of b, and fails t where it returns an error. A byte in [0,
// exhaustive) is replaced by each of its 255 other values; a byte after it
// is xored with each of flips.
func Mutations(t *testing.T, b []byte, exhaustive int, flips []byte, refused func(m []byte) error) {
	t.Helper()
	try := func(what string, i int, m []byte) {
		t.Helper()
		if err := refused(m); err != nil {
			t.Fatalf("%s at %d accepted: %v", what, i, err)
		}
	}
	m := bytes.Clone(b)
	for i := range b {
		if i < exhaustive {
			for d := 1; d < 256; d++ {
				m[i] = b[i] ^ byte(d)
				try("change", i, m)
			}
		} else {
			for _, d := range flips {
				m[i] = b[i] ^ d
				try("change", i, m)
			}
		}
		m[i] = b[i]
	}
	for n := range len(b) {
		try("truncation", n, b[:n])
	}
	for _, tail := range [][]byte{{0}, {0xff}, make([]byte, 16), b} {
		try("extension", len(tail), append(bytes.Clone(b), tail...))
	}
}

// WantRefused returns nil if err refuses the input with one of the given
// errors and returns a description of what happened otherwise.
func WantRefused(err error, sentinels ...error) error {
	if err == nil {
		return ErrAccepted
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return nil
		}
	}
	return err
}

// RequireNoKeyMaterial fails t unless err names no part of the text key it
// refused, starts with prefix (such as "sealedbox: ") and is a
// *reason.Fault.
func RequireNoKeyMaterial(t *testing.T, err error, text, prefix string) {
	t.Helper()
	_, body, _ := strings.Cut(text, "_")
	for i := 0; i+12 <= len(body); i++ {
		if strings.Contains(err.Error(), body[i:i+12]) {
			t.Fatalf("the error shows the key: %v", err)
		}
	}
	require.True(t, strings.HasPrefix(err.Error(), prefix), err.Error())
	var re *reason.Fault
	require.True(t, errors.As(err, &re))
}

// Typo changes one character in the middle of a text key.
func Typo(text string) string {
	i := len(text) / 2
	c := byte('A')
	if text[i] == 'A' {
		c = 'B'
	}
	return text[:i] + string(c) + text[i+1:]
}

// LoadVectors reads the vectors in the JSON file and requires n of them.
func LoadVectors[V any](t testing.TB, file string, n int) []V {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var vs []V
	require.NoError(t, json.Unmarshal(data, &vs))
	require.Len(t, vs, n)
	return vs
}

// CheckVectors requires the vectors in the JSON file to be got, after
// rewriting the file with got if update is set (the tests' -update flag).
func CheckVectors[V any](t *testing.T, file string, update bool, got []V) {
	if update {
		data, err := json.MarshalIndent(got, "", " ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file, append(data, '\n'), 0o644))
	}
	require.Equal(t, LoadVectors[V](t, file, len(got)), got)
}

// SplitHex cuts hex into the fields of a format, as FORMAT.md shows them:
// one per size, then the rest.
func SplitHex(t *testing.T, h string, sizes ...int) []string {
	t.Helper()
	b, err := hex.DecodeString(h)
	require.NoError(t, err)
	var out []string
	for _, n := range sizes {
		out = append(out, hex.EncodeToString(b[:n]))
		b = b[n:]
	}
	return append(out, hex.EncodeToString(b))
}

// nodeScript is a JavaScript implementation of sealedbox/FORMAT.md and
// sealedbox/e2e/FORMAT.md on @hpke/core, @hpke/hybridkem-x-wing,
// @hpke/chacha20poly1305 and @noble/post-quantum, written from the
// documents.
//
//go:embed interop.mjs
var nodeScript string

// A NodeOp is one operation of interop.mjs; a NodeResult is its answer.
type NodeOp map[string]any

type NodeResult struct {
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	PrivateKey string `json:"privateKey"`
	PublicKey  string `json:"publicKey"`
	KeyID      string `json:"keyID"`
	Envelope   string `json:"envelope"`
	Plaintext  string `json:"plaintext"`
	Wrapped    string `json:"wrapped"`
	Message    string `json:"message"`
	Seq        string `json:"seq"`
	Text       string `json:"text"`
	E2EKey     string `json:"e2eKey"`

	SigningKey   string `json:"signingKey"`
	VerifyingKey string `json:"verifyingKey"`
	Signer       string `json:"signer"`
	Signature    string `json:"signature"`
	Valid        bool   `json:"valid"`
}

// RunNode runs the operations in one Node process and returns one result
// per operation; a failed operation is a result with OK false, for the
// caller to judge. It skips t (or fails it, under LATCH_INTEROP=require)
// where Node or its packages are missing.
func RunNode(t *testing.T, ops []NodeOp) []NodeResult {
	t.Helper()
	interop.Node(t, "@hpke/core", "@hpke/hybridkem-x-wing", "@hpke/chacha20poly1305", "@noble/post-quantum")
	in, err := json.Marshal(ops)
	require.NoError(t, err)
	out := interop.RunNode(t, nodeScript, in)
	var res []NodeResult
	require.NoError(t, json.Unmarshal(out, &res), "node output: %s", out)
	require.Len(t, res, len(ops))
	return res
}
