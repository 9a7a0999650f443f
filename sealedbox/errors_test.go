package sealedbox

import (
	"bytes"
	"errors"
	"testing"

	"github.com/latchsec/latch/internal/reason"
	"github.com/stretchr/testify/require"
)

func TestErrorMessages(t *testing.T) {
	require.Equal(t, "sealedbox: cannot open", errOpen(nil).Error())
	require.Equal(t, "sealedbox: cannot open: malformed input", errOpen(errMalformed).Error())
	err := reason.New(ErrWrongKey, errSuiteMismatch)
	require.Equal(t, "sealedbox: envelope sealed to another key: suite mismatch", err.Error())
	require.ErrorIs(t, err, ErrWrongKey)
	require.ErrorIs(t, err, errSuiteMismatch)
	require.NotErrorIs(t, err, ErrOpen)
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

	for name, tc := range map[string]struct {
		err      error
		category error
	}{
		"seal too large":   {second(Seal(priv.PublicKey(), make([]byte, maxPlaintextSize+1), nil)), ErrTooLarge},
		"seal zero key":    {second(Seal(new(PublicKey), nil, nil)), ErrInvalidKey},
		"open wrong key":   {second(Open(other, env, []byte("ctx"))), ErrWrongKey},
		"open wrong ctx":   {second(Open(priv, env, []byte("other"))), ErrOpen},
		"open garbage":     {second(Open(priv, []byte("LSE"), nil)), ErrOpen},
		"open signed":      {third(OpenSigned(priv, []*VerifyingKey{signer.VerifyingKey()}, env, []byte("ctx"))), ErrOpen},
		"parse key":        {second(ParsePublicKey("latch_pk_x25519_AAAA")), ErrInvalidKey},
		"marshal zero key": {second(new(SigningKey).MarshalText()), ErrInvalidKey},
	} {
		var f *reason.Fault
		require.True(t, errors.As(tc.err, &f), "%s: %T %v", name, tc.err, tc.err)
		require.ErrorIs(t, tc.err, tc.category, name)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

// TestFailedDecryptionIsOpaque: an altered envelope and one sealed under
// another context fail with the same error, which
// matches ErrOpen and no reason, and whose message names every cause.
func TestFailedDecryptionIsOpaque(t *testing.T) {
	reasons := []error{errMalformed, errUnsupportedVersion, errUnsupportedSuite, errSuiteMismatch,
		ErrTooLarge, ErrUnsigned, ErrUnknownSigner, ErrBadSignature, ErrWrongKey}
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

}
