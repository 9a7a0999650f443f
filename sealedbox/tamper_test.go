package sealedbox

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// mutations calls refused for every single-byte change, truncation and
// extension of b. A byte in [0, exhaustive) is replaced by each of its 255
// other values; a byte after it is xored with each of flips.
func mutations(t *testing.T, b []byte, exhaustive int, flips []byte, refused func(m []byte) error) {
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

// wantRefused returns nil if err refuses the input with one of the given
// errors and returns a description of what happened otherwise.
func wantRefused(err error, sentinels ...error) error {
	if err == nil {
		return errAccepted
	}
	for _, s := range sentinels {
		if errorsIs(err, s) {
			return nil
		}
	}
	return err
}

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
			mutations(t, env, exhaustive, []byte{0x01, 0x80}, func(m []byte) error {
				pt, err := Open(priv, m, ctx)
				if pt != nil {
					return errAccepted
				}
				return wantRefused(err, ErrOpen, ErrWrongKey)
			})
			// Changing the context is refused too, byte by byte.
			mutations(t, ctx, ctxExhaustive, []byte{0x01, 0x80}, func(c []byte) error {
				_, err := Open(priv, env, c)
				return wantRefused(err, ErrOpen)
			})
			_, err = Open(priv, env, ctx)
			require.NoError(t, err, "the original still opens")
		})
	}
}

func TestTamperWrappedKey(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			e2e := GenerateE2EKey()
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			w := must(WrapPrivateKey(e2e, priv))
			mutations(t, w, len(w), nil, func(m []byte) error {
				k, err := UnwrapPrivateKey(e2e, m, priv.PublicKey())
				if k != nil {
					return errAccepted
				}
				return wantRefused(err, ErrOpen, ErrKeyMismatch)
			})
			_, err = UnwrapPrivateKey(e2e, w, priv.PublicKey())
			require.NoError(t, err)
		})
	}
}

func TestTamperMessage(t *testing.T) {
	s, _, e2e := newChannel(t, "device 3/rules")
	msg := must(s.Seal([]byte("fan on above 30")))
	mutations(t, msg, len(msg), nil, func(m []byte) error {
		// A fresh receiver each time, so that a refusal is not a replay.
		r, err := NewMessageReceiver(e2e, []byte("device 3/rules"), 0)
		if err != nil {
			return err
		}
		pt, _, err := r.Open(m)
		if pt != nil || r.Highest() != 0 {
			return errAccepted
		}
		return wantRefused(err, ErrOpen)
	})
	r, err := NewMessageReceiver(e2e, []byte("device 3/rules"), 0)
	require.NoError(t, err)
	_, _, err = r.Open(msg)
	require.NoError(t, err)
}
