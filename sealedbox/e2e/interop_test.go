package e2e

import (
	"strconv"
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

// TestInteropNodeWrapAndMessages: wrapped keys and end-to-end messages made
// by Go open in Node and the reverse. Node's XChaCha20-Poly1305 is its
// OpenSSL ChaCha20-Poly1305 under an HChaCha20 subkey computed in the
// script (sealedbox/internal/sealtest/interop.mjs).
func TestInteropNodeWrapAndMessages(t *testing.T) {
	key := GenerateKey()
	e2e := hx(key.b[:])
	ctx := []byte("device 0042/rules")
	sender, err := NewSender(key, ctx, 41)
	require.NoError(t, err)
	msg := must(sender.Seal([]byte("fan on above 30")))

	var ops []sealtest.NodeOp
	keys := map[string]*sealedbox.PrivateKey{}
	for _, s := range allSuites() {
		k, err := s.GenerateKey()
		require.NoError(t, err)
		keys[s.String()] = k
		ops = append(ops,
			sealtest.NodeOp{"op": "unwrap", "e2eKey": e2e, "wrapped": hx(wrappedBinary(t, must(WrapPrivateKey(key, k)))), "publicKey": k.PublicKey().String()},
			sealtest.NodeOp{"op": "wrap", "e2eKey": e2e, "privateKey": string(must(k.MarshalText()))},
		)
	}
	ops = append(ops,
		sealtest.NodeOp{"op": "openMessage", "e2eKey": e2e, "message": hx(msg), "context": hx(ctx), "highest": 41},
		sealtest.NodeOp{"op": "openMessage", "e2eKey": e2e, "message": hx(msg), "context": hx(ctx), "highest": 42},
		sealtest.NodeOp{"op": "openMessage", "e2eKey": e2e, "message": hx(msg), "context": hx([]byte("device 0043/rules")), "highest": 0},
		sealtest.NodeOp{"op": "sealMessage", "e2eKey": e2e, "seq": 43, "plaintext": hx([]byte("fan off")), "context": hx(ctx)},
	)
	res := sealtest.RunNode(t, ops)

	for i, s := range allSuites() {
		k := keys[s.String()]
		un, wr := res[2*i], res[2*i+1]
		require.True(t, un.OK, "Node unwraps Go's %s key: %s", s, un.Error)
		require.Equal(t, string(must(k.MarshalText())), un.PrivateKey)
		require.True(t, wr.OK, wr.Error)
		got, err := UnwrapPrivateKey(key, wrappedTextOf(suiteName(s), unhex(t, wr.Wrapped)), k.PublicKey())
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

	r, err := NewReceiver(key, ctx, 42)
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
	key := GenerateKey()
	e2eText := keyText(key)
	var ops []sealtest.NodeOp
	var texts []string
	for _, s := range allSuites() {
		text := must(WrapPrivateKey(key, must(s.GenerateKey())))
		texts = append(texts, text)
		ops = append(ops,
			sealtest.NodeOp{"op": "wrappedText", "wrapped": hx(wrappedBinary(t, text))},
			sealtest.NodeOp{"op": "parseWrappedText", "text": text},
			sealtest.NodeOp{"op": "parseWrappedText", "text": sealtest.Typo(text)},
		)
	}
	ops = append(ops,
		sealtest.NodeOp{"op": "e2eText", "e2eKey": hx(key.b[:])},
		sealtest.NodeOp{"op": "parseE2EText", "text": e2eText},
		sealtest.NodeOp{"op": "parseE2EText", "text": sealtest.Typo(e2eText)},
		sealtest.NodeOp{"op": "parseE2EText", "text": texts[0]},
	)
	res := sealtest.RunNode(t, ops)
	for i, text := range texts {
		r := res[3*i : 3*i+3]
		require.True(t, r[0].OK, r[0].Error)
		require.Equal(t, text, r[0].Text, "Node writes Go's text")
		require.Equal(t, wrappedBinary(t, text), wrappedBinary(t, r[0].Text), "Go reads Node's text")
		require.True(t, r[1].OK, r[1].Error)
		require.Equal(t, hx(wrappedBinary(t, text)), r[1].Wrapped, "Node reads Go's text")
		require.False(t, r[2].OK, "Node refuses a typo")
		require.Contains(t, r[2].Error, "bad checksum")
	}
	r := res[3*len(texts):]
	require.True(t, r[0].OK, r[0].Error)
	require.Equal(t, e2eText, r[0].Text, "Node writes Go's text")
	got, err := ParseKey(r[0].Text)
	require.NoError(t, err, "Go reads Node's text")
	require.True(t, got.Equal(key))
	require.True(t, r[1].OK, r[1].Error)
	require.Equal(t, hx(key.b[:]), r[1].E2EKey, "Node reads Go's text")
	require.False(t, r[2].OK, "Node refuses a typo")
	require.Contains(t, r[2].Error, "bad checksum")
	require.False(t, r[3].OK, "Node refuses a wrapped key as an end-to-end key")
}
