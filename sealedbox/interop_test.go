package sealedbox

import (
	"encoding/hex"
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

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
			res := sealtest.RunNode(t, []sealtest.NodeOp{
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
			res = sealtest.RunNode(t, []sealtest.NodeOp{
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
