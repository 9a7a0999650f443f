package sealedbox

import (
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

func TestTamperEnvelope(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			ctx := []byte("record 9")
			env := must(Seal(priv.PublicKey(), []byte("an integrator request"), ctx))
			// X25519: every value at every byte. Hybrid: every value in
			// the header; elsewhere bit 0 and bit 7, as each try costs
			// an ML-KEM decapsulation (-race makes that slow).
			exhaustive, ctxExhaustive := len(env), len(ctx)
			if s == MLKEM768X25519() {
				exhaustive, ctxExhaustive = envelopeHeaderSize, 0
			}
			sealtest.Mutations(t, env, exhaustive, []byte{0x01, 0x80}, func(m []byte) error {
				pt, err := Open(priv, m, ctx)
				if pt != nil {
					return sealtest.ErrAccepted
				}
				return sealtest.WantRefused(err, ErrOpen, ErrWrongKey)
			})
			// Changing the context is refused too, byte by byte.
			sealtest.Mutations(t, ctx, ctxExhaustive, []byte{0x01, 0x80}, func(c []byte) error {
				_, err := Open(priv, env, c)
				return sealtest.WantRefused(err, ErrOpen)
			})
			_, err = Open(priv, env, ctx)
			require.NoError(t, err, "the original still opens")
		})
	}
}
