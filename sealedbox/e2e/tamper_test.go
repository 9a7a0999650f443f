package e2e

import (
	"testing"

	"github.com/latchsec/latch/internal/sealtest"
	"github.com/stretchr/testify/require"
)

// TestTamperWrappedKey changes every byte of a wrapped key to every other
// value, truncates and extends it, and stores each result under a valid
// checksum (which anyone can compute): none unwraps.
func TestTamperWrappedKey(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			key := GenerateKey()
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			text := must(WrapPrivateKey(key, priv))
			w := wrappedBinary(t, text)
			sealtest.Mutations(t, w, len(w), nil, func(m []byte) error {
				k, err := UnwrapPrivateKey(key, wrappedTextOf(suiteName(s), m), priv.PublicKey())
				if k != nil {
					return sealtest.ErrAccepted
				}
				return sealtest.WantRefused(err, ErrOpen, ErrKeyMismatch, ErrInvalidKey)
			})
			// The text itself, character by character: the checksum
			// refuses every change.
			sealtest.Mutations(t, []byte(text), 0, []byte{0x01, 0x20}, func(m []byte) error {
				k, err := UnwrapPrivateKey(key, string(m), priv.PublicKey())
				if k != nil {
					return sealtest.ErrAccepted
				}
				return sealtest.WantRefused(err, ErrInvalidKey)
			})
			_, err = UnwrapPrivateKey(key, text, priv.PublicKey())
			require.NoError(t, err)
		})
	}
}

func TestTamperMessage(t *testing.T) {
	s, _, key := newChannel(t, "device 3/rules")
	msg := must(s.Seal([]byte("fan on above 30")))
	sealtest.Mutations(t, msg, len(msg), nil, func(m []byte) error {
		// A fresh receiver each time, so that a refusal is not a replay.
		r, err := NewReceiver(key, []byte("device 3/rules"), 0)
		if err != nil {
			return err
		}
		pt, _, err := r.Open(m)
		if pt != nil || r.Highest() != 0 {
			return sealtest.ErrAccepted
		}
		return sealtest.WantRefused(err, ErrOpen)
	})
	r, err := NewReceiver(key, []byte("device 3/rules"), 0)
	require.NoError(t, err)
	_, _, err = r.Open(msg)
	require.NoError(t, err)
}
