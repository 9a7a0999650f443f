package sealedbox

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWrapUnwrap(t *testing.T) {
	for _, s := range allSuites() {
		t.Run(s.String(), func(t *testing.T) {
			e2e := GenerateE2EKey()
			require.Len(t, e2e, e2eKeySize)
			priv, err := s.GenerateKey()
			require.NoError(t, err)
			w, err := WrapPrivateKey(e2e, priv)
			require.NoError(t, err)
			require.Len(t, w, wrappedSize)
			require.Equal(t, 114, len(w))
			require.NotContains(t, string(w), string(priv.raw), "the key is not in the clear")

			got, err := UnwrapPrivateKey(e2e, w, priv.PublicKey())
			require.NoError(t, err)
			require.Equal(t, must(priv.MarshalBinary()), must(got.MarshalBinary()))

			// The unwrapped key opens what is sealed to the public key.
			env := must(Seal(priv.PublicKey(), []byte("request"), []byte("r1")))
			pt, err := Open(got, env, []byte("r1"))
			require.NoError(t, err)
			require.Equal(t, "request", string(pt))

			// Two wraps of the same key differ (random nonce).
			require.NotEqual(t, w, must(WrapPrivateKey(e2e, priv)))
		})
	}
}

func TestUnwrapRefusals(t *testing.T) {
	e2e := GenerateE2EKey()
	priv, err := MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	pub := priv.PublicKey()
	w := must(WrapPrivateKey(e2e, priv))

	// The cloud's own key pairs, of both suites, to swap in.
	cloud, err := MLKEM768X25519().GenerateKey()
	require.NoError(t, err)
	cloudX, err := X25519().GenerateKey()
	require.NoError(t, err)

	// A blob whose header names pub but whose content is another private
	// key, sealed under the right end-to-end key: only someone holding the
	// end-to-end key can make it, and the public key check still catches it.
	inner := wrap(e2e, priv.suite, pub.id, cloud.raw)

	// A blob re-labelled with the cloud key's id: the header is
	// authenticated, so it does not open.
	relabelled := bytes.Clone(w)
	cid := cloud.KeyID()
	copy(relabelled[4+suiteIDSize:], cid[:])

	with := func(i int, v byte) []byte {
		c := bytes.Clone(w)
		c[i] = v
		return c
	}
	for _, tc := range []struct {
		name    string
		e2e     []byte
		wrapped []byte
		pub     *PublicKey
		want    []error
		notWant []error
	}{
		{"swapped public key", e2e, w, cloud.PublicKey(), []error{ErrKeyMismatch}, []error{ErrOpen}},
		{"swapped for other suite", e2e, w, cloudX.PublicKey(), []error{ErrKeyMismatch, errSuiteMismatch}, nil},
		{"other private key inside", e2e, inner, pub, []error{ErrKeyMismatch}, []error{ErrOpen}},
		{"re-labelled for swapped key", e2e, relabelled, cloud.PublicKey(), []error{ErrOpen}, []error{ErrKeyMismatch}},
		{"wrong e2e key", GenerateE2EKey(), w, pub, []error{ErrOpen}, []error{ErrKeyMismatch}},
		{"unknown version", e2e, with(3, 2), pub, []error{ErrOpen, errUnsupportedVersion}, nil},
		{"unknown suite", e2e, with(4, 0x77), pub, []error{ErrOpen, errUnsupportedSuite}, nil},
		{"bad magic", e2e, with(2, 'E'), pub, []error{ErrOpen, errMalformed}, nil},
		{"truncated", e2e, w[:len(w)-1], pub, []error{ErrOpen, errMalformed}, nil},
		{"extended", e2e, append(bytes.Clone(w), 0), pub, []error{ErrOpen, errMalformed}, nil},
		{"empty", e2e, nil, pub, []error{ErrOpen, errMalformed}, nil},
		{"envelope", e2e, must(Seal(pub, []byte("x"), nil)), pub, []error{ErrOpen, errMalformed}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := UnwrapPrivateKey(tc.e2e, tc.wrapped, tc.pub)
			require.Nil(t, k)
			for _, e := range tc.want {
				require.ErrorIs(t, err, e)
			}
			for _, e := range tc.notWant {
				require.NotErrorIs(t, err, e)
			}
		})
	}
}

func TestE2EKeySize(t *testing.T) {
	priv, err := X25519().GenerateKey()
	require.NoError(t, err)
	for _, n := range []int{0, 16, 31, 33, 64} {
		_, err := WrapPrivateKey(make([]byte, n), priv)
		require.Error(t, err)
		_, err = UnwrapPrivateKey(make([]byte, n), make([]byte, wrappedSize), priv.PublicKey())
		require.Error(t, err)
		_, err = NewMessageSender(make([]byte, n), nil, 0)
		require.Error(t, err)
		_, err = NewMessageReceiver(make([]byte, n), nil, 0)
		require.Error(t, err)
	}
}
