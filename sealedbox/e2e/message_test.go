package e2e

import (
	"bytes"
	"math"
	"sync"
	"testing"

	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

func newChannel(t *testing.T, ctx string) (*Sender, *Receiver, *Key) {
	e2e := GenerateKey()
	s, err := NewSender(e2e, []byte(ctx), 0)
	require.NoError(t, err)
	r, err := NewReceiver(e2e, []byte(ctx), 0)
	require.NoError(t, err)
	return s, r, e2e
}

func TestMessages(t *testing.T) {
	s, r, _ := newChannel(t, "device 1/rules")
	for i := 1; i <= 5; i++ {
		pt := bytes.Repeat([]byte{byte(i)}, i*10)
		m, err := s.Seal(pt)
		require.NoError(t, err)
		require.Len(t, m, len(pt)+52)
		got, seq, err := r.Open(m)
		require.NoError(t, err)
		require.Equal(t, uint64(i), seq)
		require.Equal(t, pt, got)
		require.Equal(t, uint64(i), s.Last())
		require.Equal(t, uint64(i), r.Highest())
	}
	// Gaps are fine (a lost message), going back is not.
	_ = must(s.Seal([]byte("lost")))
	m7 := must(s.Seal([]byte("seven")))
	_, seq, err := r.Open(m7)
	require.NoError(t, err)
	require.Equal(t, uint64(7), seq)
	_, err = s.Seal(make([]byte, maxPlaintextSize+1))
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestMessageReplayAndReorder(t *testing.T) {
	s, r, _ := newChannel(t, "device 1/rules")
	m1 := must(s.Seal([]byte("one")))
	m2 := must(s.Seal([]byte("two")))
	m3 := must(s.Seal([]byte("three")))

	_, _, err := r.Open(m1)
	require.NoError(t, err)
	_, _, err = r.Open(m1)
	require.ErrorIs(t, err, ErrReplay, "replayed")
	require.ErrorIs(t, err, ErrOpen)

	_, _, err = r.Open(m3)
	require.NoError(t, err)
	pt, seq, err := r.Open(m2)
	require.ErrorIs(t, err, ErrReplay, "reordered")
	require.Nil(t, pt)
	require.Zero(t, seq)
	require.Equal(t, uint64(3), r.Highest(), "a refused message leaves the state alone")
}

// TestMessageRestart: the state survives a restart only through what the
// caller persisted.
func TestMessageRestart(t *testing.T) {
	ctx := []byte("device 1/rules")
	s, r, e2e := newChannel(t, string(ctx))
	m1 := must(s.Seal([]byte("one")))
	_, _, err := r.Open(m1)
	require.NoError(t, err)

	// Both ends restart from their persisted state.
	s2, err := NewSender(e2e, ctx, s.Last())
	require.NoError(t, err)
	r2, err := NewReceiver(e2e, ctx, r.Highest())
	require.NoError(t, err)
	_, _, err = r2.Open(m1)
	require.ErrorIs(t, err, ErrReplay)
	m2 := must(s2.Seal([]byte("two")))
	_, seq, err := r2.Open(m2)
	require.NoError(t, err)
	require.Equal(t, uint64(2), seq)

	// A sender that forgot its state starts again at 1: refused.
	s3, err := NewSender(e2e, ctx, 0)
	require.NoError(t, err)
	_, _, err = r2.Open(must(s3.Seal([]byte("again"))))
	require.ErrorIs(t, err, ErrReplay)

	// A sender at the end of the sequence numbers refuses to go on.
	s4, err := NewSender(e2e, ctx, math.MaxUint64)
	require.NoError(t, err)
	_, err = s4.Seal([]byte("x"))
	require.Error(t, err)
}

func TestMessageRefusals(t *testing.T) {
	s, r, e2e := newChannel(t, "device 1/rules")
	m := must(s.Seal([]byte("rule")))
	other, err := NewReceiver(e2e, []byte("device 2/rules"), 0)
	require.NoError(t, err)
	_, _, err = other.Open(m)
	require.ErrorIs(t, err, ErrOpen, "wrong context")
	require.NotErrorIs(t, err, ErrReplay)

	otherKey, err := NewReceiver(GenerateKey(), []byte("device 1/rules"), 0)
	require.NoError(t, err)
	_, _, err = otherKey.Open(m)
	require.ErrorIs(t, err, ErrOpen, "wrong key")

	// The sequence number is authenticated: raising it does not open.
	raised := bytes.Clone(m)
	raised[11] = 9
	_, _, err = r.Open(raised)
	require.ErrorIs(t, err, ErrOpen)
	require.NotErrorIs(t, err, ErrReplay)

	v2 := bytes.Clone(m)
	v2[3] = 2
	_, _, err = r.Open(v2)
	require.ErrorIs(t, err, errUnsupportedVersion)
	_, _, err = r.Open(m[:messageOverhead-1])
	require.ErrorIs(t, err, errMalformed)
	_, _, err = r.Open(make([]byte, messageOverhead+maxPlaintextSize+1))
	require.ErrorIs(t, err, errMalformed, "no magic")
	huge := append(bytes.Clone(m[:messageHeaderSize]), make([]byte, messageOverhead+maxPlaintextSize)...)
	_, _, err = r.Open(huge)
	require.ErrorIs(t, err, ErrTooLarge)

	// A wrapped key under the same end-to-end key is not a message.
	priv, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)
	_, _, err = r.Open(wrappedBinary(t, must(WrapPrivateKey(e2e, priv))))
	require.ErrorIs(t, err, errMalformed)

	// Nothing was accepted.
	require.Zero(t, r.Highest())
	_, _, err = r.Open(m)
	require.NoError(t, err)
}

// TestMessageConcurrentReceivers: of many goroutines opening the same
// message, exactly one succeeds.
func TestMessageConcurrentReceivers(t *testing.T) {
	s, r, _ := newChannel(t, "c")
	m := must(s.Seal([]byte("once")))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 16 {
		wg.Go(func() {
			if _, _, err := r.Open(m); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, ok)
}
