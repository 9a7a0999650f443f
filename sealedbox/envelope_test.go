package sealedbox

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			pub := priv.PublicKey()
			for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("request "), 1000), make([]byte, maxPlaintextSize)} {
				for _, ctx := range [][]byte{nil, []byte("record 1/integration 2")} {
					env, err := Seal(pub, pt, ctx)
					require.NoError(t, err)
					require.Len(t, env, s.Overhead()+len(pt))
					got, err := Open(priv, env, ctx)
					require.NoError(t, err)
					require.Equal(t, len(pt), len(got))
					require.True(t, bytes.Equal(pt, got))
				}
			}
			// Two envelopes of the same plaintext differ.
			e1 := must(Seal(pub, []byte("same"), nil))
			e2 := must(Seal(pub, []byte("same"), nil))
			require.NotEqual(t, e1, e2)
		})
	}
}

func TestSealTooLarge(t *testing.T) {
	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	_, err = Seal(priv.PublicKey(), make([]byte, maxPlaintextSize+1), nil)
	require.ErrorIs(t, err, ErrTooLarge)
}

// TestOpenRefusals: each way an envelope can fail to open, with the error
// it gives.
func TestOpenRefusals(t *testing.T) {
	hyb, err := MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	hyb2, err := MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	x, err := X25519().GenerateKey()
	require.NoError(t, err)
	ctx := []byte("record 1")
	env := must(Seal(hyb.PublicKey(), []byte("secret request"), ctx))
	xenv := must(Seal(x.PublicKey(), []byte("secret request"), ctx))

	with := func(b []byte, i int, v byte) []byte {
		c := bytes.Clone(b)
		c[i] = v
		return c
	}
	// An envelope re-labelled as the other suite, with the other key's id.
	relabelled := bytes.Clone(env)
	copy(relabelled[4:], X25519().id[:])
	xid := x.KeyID()
	copy(relabelled[10:], xid[:])
	// The key id of the right key on an envelope for another one.
	wrongEnvRightID := must(Seal(hyb2.PublicKey(), []byte("secret request"), ctx))
	hid := hyb.KeyID()
	copy(wrongEnvRightID[10:], hid[:])
	// Oversized: the right header, then more than any envelope can hold.
	huge := append(bytes.Clone(env[:envelopeHeaderSize]), make([]byte, 1120+maxPlaintextSize+17)...)

	for _, tc := range []struct {
		name    string
		priv    *PrivateKey
		env     []byte
		ctx     []byte
		want    []error
		notWant []error
	}{
		{"wrong context", hyb, env, []byte("record 2"), []error{ErrOpen}, []error{ErrWrongKey, errMalformed}},
		{"no context", hyb, env, nil, []error{ErrOpen}, nil},
		{"wrong key", hyb2, env, ctx, []error{ErrWrongKey}, []error{ErrOpen}},
		{"other suite's key", x, env, ctx, []error{ErrWrongKey, errSuiteMismatch}, []error{ErrOpen}},
		{"x25519 envelope, hybrid key", hyb, xenv, ctx, []error{ErrWrongKey, errSuiteMismatch}, nil},
		{"relabelled as other suite", x, relabelled, ctx, []error{ErrOpen}, []error{ErrWrongKey}},
		{"right id, other key's envelope", hyb, wrongEnvRightID, ctx, []error{ErrOpen}, []error{ErrWrongKey}},
		{"unknown version", hyb, with(env, 3, 2), ctx, []error{ErrOpen, errUnsupportedVersion}, nil},
		{"version 0", hyb, with(env, 3, 0), ctx, []error{ErrOpen, errUnsupportedVersion}, nil},
		{"unknown suite", hyb, with(env, 5, 0x10), ctx, []error{ErrOpen, errUnsupportedSuite}, nil},
		{"bad magic", hyb, with(env, 0, 'X'), ctx, []error{ErrOpen, errMalformed}, nil},
		{"empty", hyb, nil, ctx, []error{ErrOpen, errMalformed}, nil},
		{"header only", hyb, env[:envelopeHeaderSize], ctx, []error{ErrOpen, errMalformed}, nil},
		{"no tag", hyb, env[:envelopeHeaderSize+1120+15], ctx, []error{ErrOpen, errMalformed}, nil},
		{"too large", hyb, huge, ctx, []error{ErrOpen, ErrTooLarge}, nil},
		{"wrapped key (sealedbox/e2e)", hyb, append([]byte("LSW\x01"), make([]byte, 110)...), ctx, []error{ErrOpen, errMalformed}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := Open(tc.priv, tc.env, tc.ctx)
			require.Error(t, err)
			require.Nil(t, pt)
			for _, e := range tc.want {
				require.ErrorIs(t, err, e)
			}
			for _, e := range tc.notWant {
				require.NotErrorIs(t, err, e)
			}
			require.Contains(t, err.Error(), "sealedbox: ")
		})
	}
}

func TestEnvelopeKeyID(t *testing.T) {
	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	env := must(Seal(priv.PublicKey(), []byte("p"), nil))
	id, err := EnvelopeKeyID(env)
	require.NoError(t, err)
	require.Equal(t, priv.KeyID(), id)
	_, err = EnvelopeKeyID(env[:20])
	require.ErrorIs(t, err, errMalformed)
}

// TestSealDoesNotTouchInputs: Seal and Open leave their inputs and the
// spare capacity of those slices alone.
func TestSealDoesNotTouchInputs(t *testing.T) {
	priv, err := MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	pad := func(b []byte) []byte {
		s := make([]byte, len(b), len(b)+64)
		copy(s, b)
		for i := len(b); i < cap(s); i++ {
			s[:cap(s)][i] = 0xAA
		}
		return s
	}
	check := func(s []byte, want []byte) {
		require.Equal(t, want, s)
		for _, c := range s[len(s):cap(s)] {
			require.Equal(t, byte(0xAA), c)
		}
	}
	pt, ctx := pad([]byte("plaintext")), pad([]byte("ctx"))
	env, err := Seal(priv.PublicKey(), pt, ctx)
	require.NoError(t, err)
	check(pt, []byte("plaintext"))
	check(ctx, []byte("ctx"))
	penv := pad(env)
	_, err = Open(priv, penv, ctx)
	require.NoError(t, err)
	check(penv, env)
}

// TestX25519LowOrderPoints: sealing to a degenerate X25519 public key, or
// opening an envelope whose enc is one, is an error and not a panic.
func TestX25519LowOrderPoints(t *testing.T) {
	zero := append(bytes.Clone(X25519().id[:]), make([]byte, 32)...)
	var pub PublicKey
	require.NoError(t, pub.UnmarshalBinary(append([]byte("LSP\x01"), zero...)))
	_, err := Seal(&pub, []byte("x"), nil)
	require.Error(t, err)

	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	env := must(Seal(priv.PublicKey(), []byte("x"), nil))
	copy(env[envelopeHeaderSize:], make([]byte, 32))
	_, err = Open(priv, env, nil)
	require.ErrorIs(t, err, ErrOpen)
	require.NotErrorIs(t, err, errMalformed)
}
