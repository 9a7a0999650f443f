package sealedbox

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/latchsec/latch/internal/interop"
	"github.com/stretchr/testify/require"
)

// nodeOp is one operation of testdata/interop.mjs, a JavaScript
// implementation of FORMAT.md on @hpke/core, @hpke/hybridkem-x-wing,
// @hpke/chacha20poly1305 and @noble/post-quantum; nodeResult is its answer.
type nodeOp map[string]any

type nodeResult struct {
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

// runNode runs the operations in one Node process and returns one result per
// operation; a failed operation is a result with OK false, for the caller to
// judge.
func runNode(t *testing.T, ops []nodeOp) []nodeResult {
	t.Helper()
	interop.Node(t, "@hpke/core", "@hpke/hybridkem-x-wing", "@hpke/chacha20poly1305", "@noble/post-quantum")
	script, err := os.ReadFile("testdata/interop.mjs")
	require.NoError(t, err)
	in, err := json.Marshal(ops)
	require.NoError(t, err)
	out := interop.RunNode(t, string(script), in)
	var res []nodeResult
	require.NoError(t, json.Unmarshal(out, &res), "node output: %s", out)
	require.Len(t, res, len(ops))
	return res
}

func hx(b []byte) string { return hex.EncodeToString(b) }

// TestInteropNode: Go seals and Node opens, Node seals and Go opens, for both
// suites, with the key pair made by Go and by Node; Node's failures on a
// wrong context and a wrong key show that it checks what FORMAT.md says.
func TestInteropNode(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			ctx := []byte("record 17/integration 3")
			pt := []byte(`{"method":"POST","url":"https://api.example.com/v1/run","body":"…"}`)

			goKey, err := s.GenerateKey()
			require.NoError(t, err)
			goPriv := string(must(goKey.MarshalText()))
			goPub := goKey.PublicKey().String()
			goEnv := must(Seal(goKey.PublicKey(), pt, ctx))

			// Round 1: Node makes a key pair, opens Go's envelope, seals
			// to Go's key, and refuses a wrong context and a wrong key.
			res := runNode(t, []nodeOp{
				{"op": "keygen", "suite": s.name},
				{"op": "open", "privateKey": goPriv, "envelope": hx(goEnv), "context": hx(ctx)},
				{"op": "seal", "publicKey": goPub, "plaintext": hx(pt), "context": hx(ctx)},
				{"op": "open", "privateKey": goPriv, "envelope": hx(goEnv), "context": hx([]byte("record 18/integration 3"))},
			})
			for i, r := range res[:3] {
				require.True(t, r.OK, "op %d: %s", i, r.Error)
			}
			require.Equal(t, hx(pt), res[1].Plaintext, "Go seals, Node opens")
			nodeEnv := unhex(t, res[2].Envelope)
			require.Len(t, nodeEnv, s.Overhead()+len(pt))
			got, err := Open(goKey, nodeEnv, ctx)
			require.NoError(t, err, "Node seals, Go opens")
			require.Equal(t, pt, got)
			require.False(t, res[3].OK, "Node opened under a wrong context")
			_, err = Open(goKey, nodeEnv, []byte("record 18/integration 3"))
			require.ErrorIs(t, err, ErrOpen)

			// Node's key pair, read by Go.
			nodeKey, err := ParsePrivateKey(res[0].PrivateKey)
			require.NoError(t, err, "Node's private key text")
			nodePub, err := ParsePublicKey(res[0].PublicKey)
			require.NoError(t, err, "Node's public key text")
			require.True(t, nodeKey.PublicKey().Equal(nodePub), "Node's public key is the one of its private key")
			require.Equal(t, res[0].KeyID, nodePub.KeyID().String())
			require.Equal(t, res[0].PrivateKey, string(must(nodeKey.MarshalText())), "parse-then-marshal")
			goEnv2 := must(Seal(nodePub, pt, ctx))

			// Round 2: with Node's key pair, both ways.
			res = runNode(t, []nodeOp{
				{"op": "open", "privateKey": res[0].PrivateKey, "envelope": hx(goEnv2), "context": hx(ctx)},
				{"op": "seal", "publicKey": res[0].PublicKey, "plaintext": hx(pt), "context": hx(ctx)},
				{"op": "open", "privateKey": res[0].PrivateKey, "envelope": hx(goEnv), "context": hx(ctx)},
			})
			require.True(t, res[0].OK, res[0].Error)
			require.Equal(t, hx(pt), res[0].Plaintext, "Go seals to Node's key, Node opens")
			require.True(t, res[1].OK, res[1].Error)
			got, err = Open(nodeKey, unhex(t, res[1].Envelope), ctx)
			require.NoError(t, err, "Node seals to its key, Go opens")
			require.Equal(t, pt, got)
			require.False(t, res[2].OK, "Node opened an envelope for another key")
			_, err = Open(nodeKey, goEnv, ctx)
			require.ErrorIs(t, err, ErrWrongKey)
		})
	}
}

// TestInteropNodeWrapAndMessages: wrapped keys and end-to-end messages made
// by Go open in Node and the reverse. Node's XChaCha20-Poly1305 is its
// OpenSSL ChaCha20-Poly1305 under an HChaCha20 subkey computed in the
// script.
func TestInteropNodeWrapAndMessages(t *testing.T) {
	e2e := GenerateE2EKey()
	ctx := []byte("device 0042/rules")
	sender, err := NewMessageSender(e2e, ctx, 41)
	require.NoError(t, err)
	msg := must(sender.Seal([]byte("fan on above 30")))

	var ops []nodeOp
	keys := map[string]*PrivateKey{}
	for _, s := range allSuites() {
		k, err := s.GenerateKey()
		require.NoError(t, err)
		keys[s.name] = k
		ops = append(ops,
			nodeOp{"op": "unwrap", "e2eKey": hx(e2e), "wrapped": hx(must(WrapPrivateKey(e2e, k))), "publicKey": k.PublicKey().String()},
			nodeOp{"op": "wrap", "e2eKey": hx(e2e), "privateKey": string(must(k.MarshalText()))},
		)
	}
	ops = append(ops,
		nodeOp{"op": "openMessage", "e2eKey": hx(e2e), "message": hx(msg), "context": hx(ctx), "highest": 41},
		nodeOp{"op": "openMessage", "e2eKey": hx(e2e), "message": hx(msg), "context": hx(ctx), "highest": 42},
		nodeOp{"op": "openMessage", "e2eKey": hx(e2e), "message": hx(msg), "context": hx([]byte("device 0043/rules")), "highest": 0},
		nodeOp{"op": "sealMessage", "e2eKey": hx(e2e), "seq": 43, "plaintext": hx([]byte("fan off")), "context": hx(ctx)},
	)
	res := runNode(t, ops)

	for i, s := range allSuites() {
		k := keys[s.name]
		un, wr := res[2*i], res[2*i+1]
		require.True(t, un.OK, "Node unwraps Go's %s key: %s", s, un.Error)
		require.Equal(t, string(must(k.MarshalText())), un.PrivateKey)
		require.True(t, wr.OK, wr.Error)
		got, err := UnwrapPrivateKey(e2e, unhex(t, wr.Wrapped), k.PublicKey())
		require.NoError(t, err, "Go unwraps Node's %s key", s)
		require.Equal(t, must(k.MarshalBinary()), must(got.MarshalBinary()))
	}
	m := res[2*len(allSuites()):]
	require.True(t, m[0].OK, m[0].Error)
	require.Equal(t, hx([]byte("fan on above 30")), m[0].Plaintext)
	require.Equal(t, "42", m[0].Seq)
	require.False(t, m[1].OK, "Node accepted a replay")
	require.False(t, m[2].OK, "Node accepted another context")
	require.True(t, m[3].OK, m[3].Error)

	r, err := NewMessageReceiver(e2e, ctx, 42)
	require.NoError(t, err)
	pt, seq, err := r.Open(unhex(t, m[3].Message))
	require.NoError(t, err, "Go opens Node's message")
	require.Equal(t, "fan off", string(pt))
	require.Equal(t, "43", strconv.FormatUint(seq, 10))
}

// TestInteropNodeKeyTexts: the text forms of the end-to-end key and of
// wrapped keys, implemented in Node from FORMAT.md, give the same text as
// Go's and parse Go's; Node's texts parse in Go; both refuse a typo.
func TestInteropNodeKeyTexts(t *testing.T) {
	e2e := GenerateE2EKey()
	e2eText := must(E2EKeyText(e2e))
	var ops []nodeOp
	var wrapped [][]byte
	for _, s := range allSuites() {
		w := must(WrapPrivateKey(e2e, must(s.GenerateKey())))
		wrapped = append(wrapped, w)
		text := must(WrappedKeyText(w))
		ops = append(ops,
			nodeOp{"op": "wrappedText", "wrapped": hx(w)},
			nodeOp{"op": "parseWrappedText", "text": text},
			nodeOp{"op": "parseWrappedText", "text": typo(text)},
		)
	}
	ops = append(ops,
		nodeOp{"op": "e2eText", "e2eKey": hx(e2e)},
		nodeOp{"op": "parseE2EText", "text": e2eText},
		nodeOp{"op": "parseE2EText", "text": typo(e2eText)},
		nodeOp{"op": "parseE2EText", "text": must(WrappedKeyText(wrapped[0]))},
	)
	res := runNode(t, ops)
	for i, w := range wrapped {
		r := res[3*i : 3*i+3]
		require.True(t, r[0].OK, r[0].Error)
		require.Equal(t, must(WrappedKeyText(w)), r[0].Text, "Node writes Go's text")
		got, err := ParseWrappedKey(r[0].Text)
		require.NoError(t, err)
		require.Equal(t, w, got)
		require.True(t, r[1].OK, r[1].Error)
		require.Equal(t, hx(w), r[1].Wrapped, "Node reads Go's text")
		require.False(t, r[2].OK, "Node refuses a typo")
		require.Contains(t, r[2].Error, "bad checksum")
	}
	r := res[3*len(wrapped):]
	require.True(t, r[0].OK, r[0].Error)
	require.Equal(t, e2eText, r[0].Text, "Node writes Go's text")
	require.True(t, r[1].OK, r[1].Error)
	require.Equal(t, hx(e2e), r[1].E2EKey, "Node reads Go's text")
	require.False(t, r[2].OK, "Node refuses a typo")
	require.Contains(t, r[2].Error, "bad checksum")
	require.False(t, r[3].OK, "Node refuses a wrapped key as an end-to-end key")
}

// typo changes one character in the middle of a text key.
func typo(text string) string {
	i := len(text) / 2
	c := byte('A')
	if text[i] == 'A' {
		c = 'B'
	}
	return text[:i] + string(c) + text[i+1:]
}
