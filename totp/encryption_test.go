package totp

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSealRoundTrip(t *testing.T) {
	s, err := newSealer([]SealingKey{testSealingKey})
	require.NoError(t, err)
	secret := []byte("12345678901234567890")
	sealed, err := s.seal("alice", SHA1, 6, secret)
	require.NoError(t, err)
	require.Equal(t, byte(sealVersion), sealed[0])
	require.Equal(t, "k1", string(sealed[2:4]))
	require.Len(t, sealed, 2+2+12+20+16)
	require.False(t, bytes.Contains(sealed, secret))

	got, id, err := s.open("alice", SHA1, 6, sealed)
	require.NoError(t, err)
	require.Equal(t, secret, got)
	require.Equal(t, "k1", id)

	again, err := s.seal("alice", SHA1, 6, secret)
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce each time")

	// Bound to the account, the algorithm and the digits.
	for _, c := range []struct {
		account string
		alg     Algorithm
		digits  int
	}{{"bob", SHA1, 6}, {"alice ", SHA1, 6}, {"alice", SHA256, 6}, {"alice", SHA1, 8}} {
		_, _, err := s.open(c.account, c.alg, c.digits, sealed)
		require.ErrorIs(t, err, ErrSecretUnreadable)
	}
	// Every altered or truncated byte is caught; nothing panics.
	for i := range sealed {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		_, _, err := s.open("alice", SHA1, 6, b)
		require.ErrorIs(t, err, ErrSecretUnreadable, "byte %d", i)
		_, _, err = s.open("alice", SHA1, 6, sealed[:i])
		require.ErrorIs(t, err, ErrSecretUnreadable, "truncated to %d", i)
	}
	_, _, err = s.open("alice", SHA1, 6, append(bytes.Clone(sealed), 0))
	require.ErrorIs(t, err, ErrSecretUnreadable)
}

// TestSealedSecretMovedToAnotherAccount: copying alice's record to mallory
// does not let alice's codes sign mallory in, nor mallory read the secret.
func TestSealedSecretMovedToAnotherAccount(t *testing.T) {
	f := newFixture(t, nil)
	ka := f.enrolled(t, "alice")
	f.enrolled(t, "mallory")
	ra, rm := f.record(t, "alice"), f.record(t, "mallory")
	rm.Secret = ra.Secret
	ok, err := f.store.CompareAndSwap(f.ctx, "mallory", rm.Version, rm)
	require.NoError(t, err)
	require.True(t, ok)
	err = f.a.Verify(f.ctx, "mallory", ka.Code(f.clock.Now()))
	require.ErrorIs(t, err, ErrSecretUnreadable)
	require.NotErrorIs(t, err, ErrRefused)
}

// TestKeyRotation: with a new key first and the old one kept, old records
// still verify and are resealed under the new key at their next success;
// then the old key can go.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	k2 := f.enrolled(t, "idle")
	newKey := SealingKey{ID: "k2", Key: bytes.Repeat([]byte{9}, 32)}

	rotated, err := New(Config{Issuer: "Acme", Store: f.store, SealingKeys: []SealingKey{newKey, testSealingKey}, Now: f.clock.Now})
	require.NoError(t, err)
	require.Equal(t, "k1", string(f.record(t, "u").Secret[2:4]))
	require.NoError(t, rotated.Verify(f.ctx, "u", k.Code(f.clock.Now())))
	require.Equal(t, "k2", string(f.record(t, "u").Secret[2:4]))

	// A failure does not reseal.
	requireRefused(t, rotated.Verify(f.ctx, "idle", wrongCode(k2, f.clock.Now(), 2)), ErrInvalidCode)
	require.Equal(t, "k1", string(f.record(t, "idle").Secret[2:4]))

	onlyNew, err := New(Config{Issuer: "Acme", Store: f.store, SealingKeys: []SealingKey{newKey}, Now: f.clock.Now})
	require.NoError(t, err)
	f.clock.Advance(period * time.Second)
	require.NoError(t, onlyNew.Verify(f.ctx, "u", k.Code(f.clock.Now())))
	require.ErrorIs(t, onlyNew.Verify(f.ctx, "idle", k2.Code(f.clock.Now())), ErrSecretUnreadable)
	// The old server can no longer read the resealed record.
	f.clock.Advance(period * time.Second)
	require.ErrorIs(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), ErrSecretUnreadable)
}

// TestCorruptRecord: a record with parameters out of range is an error,
// never a panic.
func TestCorruptRecord(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	for _, edit := range []func(*Record){
		func(r *Record) { r.Digits = 7 },
		func(r *Record) { r.Digits = 0 },
		func(r *Record) { r.Algorithm = 9 },
		func(r *Record) { r.Secret = nil },
		func(r *Record) { r.Secret = []byte{1, 200} },
	} {
		r := f.record(t, "u")
		orig := r.clone()
		edit(r)
		ok, err := f.store.CompareAndSwap(f.ctx, "u", r.Version, r)
		require.NoError(t, err)
		require.True(t, ok)
		require.ErrorIs(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())), ErrSecretUnreadable)
		r = f.record(t, "u")
		ok, err = f.store.CompareAndSwap(f.ctx, "u", r.Version, orig)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.NoError(t, f.a.Verify(f.ctx, "u", k.Code(f.clock.Now())))
}
