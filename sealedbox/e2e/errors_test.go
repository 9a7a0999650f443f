package e2e

import (
	"bytes"
	"errors"
	"testing"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/sealedbox"
	"github.com/stretchr/testify/require"
)

func TestErrorMessages(t *testing.T) {
	require.Equal(t, "e2e: cannot open", errOpen(nil).Error())
	require.Equal(t, "e2e: cannot open: malformed input", errOpen(errMalformed).Error())
	err := reason.New(ErrKeyMismatch, errSuiteMismatch)
	require.Equal(t, "e2e: public key does not belong to the wrapped private key: suite mismatch", err.Error())
	require.ErrorIs(t, err, ErrKeyMismatch)
	require.ErrorIs(t, err, errSuiteMismatch)
	require.NotErrorIs(t, err, ErrOpen)
	require.Equal(t, "e2e: invalid key: end-to-end key must be 32 bytes", second(NewKey(nil)).Error())
	require.Equal(t, "e2e: invalid key: not an end-to-end key", errKey("not an end-to-end key").Error())
}

// TestEveryErrorIsAFault: what the package returns, from a wrong key, a
// bad input or a misuse, is a *reason.Fault that matches a category.
func TestEveryErrorIsAFault(t *testing.T) {
	priv, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)
	other, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)
	key := GenerateKey()
	wrapped, err := WrapPrivateKey(key, priv)
	require.NoError(t, err)
	sender, err := NewSender(key, nil, 0)
	require.NoError(t, err)
	receiver, err := NewReceiver(key, []byte("other"), 0)
	require.NoError(t, err)
	msg, err := sender.Seal([]byte("x"))
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		err      error
		category error
	}{
		"unwrap swapped":     {second(UnwrapPrivateKey(key, wrapped, other.PublicKey())), ErrKeyMismatch},
		"unwrap other e2e":   {second(UnwrapPrivateKey(GenerateKey(), wrapped, priv.PublicKey())), ErrOpen},
		"unwrap bad text":    {second(UnwrapPrivateKey(key, "latch_wk_x25519_AAAA", priv.PublicKey())), ErrInvalidKey},
		"wrap zero key":      {second(WrapPrivateKey(new(Key), priv)), ErrInvalidKey},
		"message other ctx":  {third(receiver.Open(msg)), ErrOpen},
		"message too large":  {second(sender.Seal(make([]byte, maxPlaintextSize+1))), ErrTooLarge},
		"message garbage":    {third(receiver.Open([]byte("LSM"))), ErrOpen},
		"parse key":          {second(ParseKey("latch_e2e_AAAA")), ErrInvalidKey},
		"new key short":      {second(NewKey(make([]byte, 16))), ErrInvalidKey},
		"sender zero key":    {second(NewSender(nil, nil, 0)), ErrInvalidKey},
		"marshal zero key":   {second(new(Key).MarshalText()), ErrInvalidKey},
		"unmarshal bad text": {new(Key).UnmarshalText([]byte("latch_e2e_")), ErrInvalidKey},
	} {
		var f *reason.Fault
		require.True(t, errors.As(tc.err, &f), "%s: %T %v", name, tc.err, tc.err)
		require.ErrorIs(t, tc.err, tc.category, name)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

// TestFailedDecryptionIsOpaque: an altered input and one made under
// another end-to-end key or context fail with the same error, which
// matches ErrOpen and no reason, and whose message names every cause.
func TestFailedDecryptionIsOpaque(t *testing.T) {
	reasons := []error{errMalformed, errUnsupportedVersion, errUnsupportedSuite, errSuiteMismatch,
		ErrTooLarge, ErrReplay, ErrKeyMismatch, ErrInvalidKey}
	same := func(want string, errs ...error) {
		t.Helper()
		for _, err := range errs {
			require.ErrorIs(t, err, ErrOpen)
			for _, r := range reasons {
				require.NotErrorIs(t, err, r)
			}
			require.Equal(t, "e2e: cannot open: "+want, err.Error())
		}
	}
	flip := func(b []byte) []byte {
		b = bytes.Clone(b)
		b[len(b)-1] ^= 1
		return b
	}

	priv, err := sealedbox.X25519().GenerateKey()
	require.NoError(t, err)
	key := GenerateKey()
	wrapped, err := WrapPrivateKey(key, priv)
	require.NoError(t, err)
	altered := wrappedTextOf("x25519", flip(wrappedBinary(t, wrapped)))
	same(wrappedAuthFailed, second(UnwrapPrivateKey(GenerateKey(), wrapped, priv.PublicKey())), second(UnwrapPrivateKey(key, altered, priv.PublicKey())))

	s, err := NewSender(key, []byte("ctx"), 0)
	require.NoError(t, err)
	msg, err := s.Seal([]byte("x"))
	require.NoError(t, err)
	other, err := NewReceiver(key, []byte("other"), 0)
	require.NoError(t, err)
	otherKey, err := NewReceiver(GenerateKey(), []byte("ctx"), 0)
	require.NoError(t, err)
	r, err := NewReceiver(key, []byte("ctx"), 0)
	require.NoError(t, err)
	same(messageAuthFailed, third(other.Open(msg)), third(otherKey.Open(msg)), third(r.Open(flip(msg))))
}
