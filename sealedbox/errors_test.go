package sealedbox

import (
	"bytes"
	"errors"
	"testing"

	"github.com/latchsec/latch/internal/reason"
	"github.com/stretchr/testify/require"
)

var errAccepted = errors.New("accepted")

var errorsIs = errors.Is

func TestErrorMessages(t *testing.T) {
	require.Equal(t, "sealedbox: cannot open", errOpen(nil).Error())
	require.Equal(t, "sealedbox: cannot open: malformed input", errOpen(errMalformed).Error())
	err := reason.New(ErrWrongKey, errSuiteMismatch)
	require.Equal(t, "sealedbox: envelope sealed to another key: suite mismatch", err.Error())
	require.ErrorIs(t, err, ErrWrongKey)
	require.ErrorIs(t, err, errSuiteMismatch)
	require.NotErrorIs(t, err, ErrOpen)
	require.Equal(t, "sealedbox: invalid key: end-to-end key must be 32 bytes", reason.New(ErrInvalidKey, errE2EKeySize).Error())
	require.Equal(t, "sealedbox: invalid key: public key has the wrong length", errKey("public key has the wrong length").Error())
}

// TestEveryErrorIsAFault: what the package returns, from a wrong key, a
// bad input or a misuse, is a *reason.Fault that matches a category.
func TestEveryErrorIsAFault(t *testing.T) {
	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	other, err := X25519().GenerateKey()
	require.NoError(t, err)
	signer, err := Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	env, err := Seal(priv.PublicKey(), []byte("x"), []byte("ctx"))
	require.NoError(t, err)
	e2e := GenerateE2EKey()
	wrapped, err := WrapPrivateKey(e2e, priv)
	require.NoError(t, err)
	sender, err := NewMessageSender(e2e, nil, 0)
	require.NoError(t, err)
	receiver, err := NewMessageReceiver(e2e, []byte("other"), 0)
	require.NoError(t, err)
	msg, err := sender.Seal([]byte("x"))
	require.NoError(t, err)

	for name, tc := range map[string]struct {
		err      error
		category error
	}{
		"seal too large":    {second(Seal(priv.PublicKey(), make([]byte, maxPlaintextSize+1), nil)), ErrTooLarge},
		"seal zero key":     {second(Seal(new(PublicKey), nil, nil)), ErrInvalidKey},
		"open wrong key":    {second(Open(other, env, []byte("ctx"))), ErrWrongKey},
		"open wrong ctx":    {second(Open(priv, env, []byte("other"))), ErrOpen},
		"open garbage":      {second(Open(priv, []byte("LSE"), nil)), ErrOpen},
		"open signed":       {third(OpenSigned(priv, []*VerifyingKey{signer.VerifyingKey()}, env, []byte("ctx"))), ErrOpen},
		"unwrap swapped":    {second(UnwrapPrivateKey(e2e, wrapped, other.PublicKey())), ErrKeyMismatch},
		"unwrap other e2e":  {second(UnwrapPrivateKey(GenerateE2EKey(), wrapped, priv.PublicKey())), ErrOpen},
		"wrap short e2e":    {second(WrapPrivateKey(e2e[:16], priv)), ErrInvalidKey},
		"message other ctx": {third(receiver.Open(msg)), ErrOpen},
		"parse key":         {second(ParsePublicKey("latch_pk_x25519_AAAA")), ErrInvalidKey},
		"parse e2e":         {second(ParseE2EKey("latch_e2e_AAAA")), ErrInvalidKey},
		"marshal zero key":  {second(new(SigningKey).MarshalText()), ErrInvalidKey},
	} {
		var f *reason.Fault
		require.True(t, errors.As(tc.err, &f), "%s: %T %v", name, tc.err, tc.err)
		require.ErrorIs(t, tc.err, tc.category, name)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

// TestFailedDecryptionIsOpaque: an altered input and one sealed under
// another context or end-to-end key fail with the same error, which
// matches ErrOpen and no reason, and whose message names every cause.
func TestFailedDecryptionIsOpaque(t *testing.T) {
	reasons := []error{errMalformed, errUnsupportedVersion, errUnsupportedSuite, errSuiteMismatch,
		ErrTooLarge, ErrReplay, ErrUnsigned, ErrUnknownSigner, ErrBadSignature, ErrWrongKey, ErrKeyMismatch}
	same := func(want string, errs ...error) {
		t.Helper()
		for _, err := range errs {
			require.ErrorIs(t, err, ErrOpen)
			for _, r := range reasons {
				require.NotErrorIs(t, err, r)
			}
			require.Equal(t, "sealedbox: cannot open: "+want, err.Error())
		}
	}
	flip := func(b []byte) []byte {
		b = bytes.Clone(b)
		b[len(b)-1] ^= 1
		return b
	}

	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	env, err := Seal(priv.PublicKey(), []byte("x"), []byte("ctx"))
	require.NoError(t, err)
	same(envelopeAuthFailed, second(Open(priv, env, []byte("other"))), second(Open(priv, flip(env), []byte("ctx"))))

	signer, err := Ed25519().GenerateSigningKey()
	require.NoError(t, err)
	signed, err := SealSigned(priv.PublicKey(), signer, []byte("x"), []byte("ctx"))
	require.NoError(t, err)
	signers := []*VerifyingKey{signer.VerifyingKey()}
	same(envelopeAuthFailed, third(OpenSigned(priv, signers, signed, []byte("other"))), third(OpenSigned(priv, signers, flip(signed), []byte("ctx"))))

	e2e := GenerateE2EKey()
	wrapped, err := WrapPrivateKey(e2e, priv)
	require.NoError(t, err)
	same(wrappedAuthFailed, second(UnwrapPrivateKey(GenerateE2EKey(), wrapped, priv.PublicKey())), second(UnwrapPrivateKey(e2e, flip(wrapped), priv.PublicKey())))

	s, err := NewMessageSender(e2e, []byte("ctx"), 0)
	require.NoError(t, err)
	msg, err := s.Seal([]byte("x"))
	require.NoError(t, err)
	other, err := NewMessageReceiver(e2e, []byte("other"), 0)
	require.NoError(t, err)
	otherKey, err := NewMessageReceiver(GenerateE2EKey(), []byte("ctx"), 0)
	require.NoError(t, err)
	r, err := NewMessageReceiver(e2e, []byte("ctx"), 0)
	require.NoError(t, err)
	same(messageAuthFailed, third(other.Open(msg)), third(otherKey.Open(msg)), third(r.Open(flip(msg))))
}
