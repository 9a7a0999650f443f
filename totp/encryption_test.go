package totp

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/stretchr/testify/require"
)

func TestEncryptRoundTrip(t *testing.T) {
	e, err := newEncrypter([]EncryptionKey{testEncryptionKey})
	require.NoError(t, err)
	secret := []byte("12345678901234567890")
	encrypted := e.encrypt("alice", SHA1, 6, secret)
	require.Equal(t, byte(secretVersion), encrypted[0])
	require.Equal(t, "k1", string(encrypted[2:4]))
	require.Len(t, encrypted, 2+2+12+20+16)
	require.False(t, bytes.Contains(encrypted, secret))

	got, id, err := e.decrypt("alice", SHA1, 6, encrypted)
	require.NoError(t, err)
	require.Equal(t, secret, got)
	require.Equal(t, "k1", id)

	again := e.encrypt("alice", SHA1, 6, secret)
	require.NotEqual(t, encrypted, again, "a fresh nonce each time")

	// Bound to the account, the algorithm and the digits.
	for _, c := range []struct {
		account string
		alg     Algorithm
		digits  int
	}{{"bob", SHA1, 6}, {"alice ", SHA1, 6}, {"alice", SHA256, 6}, {"alice", SHA1, 8}} {
		_, _, err := e.decrypt(c.account, c.alg, c.digits, encrypted)
		require.ErrorIs(t, err, ErrSecretUnreadable)
	}
	// Every altered or truncated byte is caught; nothing panics.
	for i := range encrypted {
		b := bytes.Clone(encrypted)
		b[i] ^= 0x01
		_, _, err := e.decrypt("alice", SHA1, 6, b)
		require.ErrorIs(t, err, ErrSecretUnreadable, "byte %d", i)
		_, _, err = e.decrypt("alice", SHA1, 6, encrypted[:i])
		require.ErrorIs(t, err, ErrSecretUnreadable, "truncated to %d", i)
	}
	_, _, err = e.decrypt("alice", SHA1, 6, append(bytes.Clone(encrypted), 0))
	require.ErrorIs(t, err, ErrSecretUnreadable)
}

// TestEncryptedSecretMovedToAnotherAccount: copying alice's record to
// mallory does not let alice's codes sign mallory in, nor mallory read the
// secret.
func TestEncryptedSecretMovedToAnotherAccount(t *testing.T) {
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
// still verify and are re-encrypted under the new key at their next success;
// then the old key can go.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t, nil)
	k := f.enrolled(t, "u")
	k2 := f.enrolled(t, "idle")
	newKey := EncryptionKey{ID: "k2", Key: bytes.Repeat([]byte{9}, 32)}

	rotated, err := New(Config{Issuer: "Acme", Store: f.store, EncryptionKeys: []EncryptionKey{newKey, testEncryptionKey}, Now: f.clock.Now})
	require.NoError(t, err)
	require.Equal(t, "k1", string(f.record(t, "u").Secret[2:4]))
	require.NoError(t, rotated.Verify(f.ctx, "u", k.Code(f.clock.Now())))
	require.Equal(t, "k2", string(f.record(t, "u").Secret[2:4]))

	// A failure does not re-encrypt.
	requireRefused(t, rotated.Verify(f.ctx, "idle", wrongCode(k2, f.clock.Now(), 2)), ErrInvalidCode)
	require.Equal(t, "k1", string(f.record(t, "idle").Secret[2:4]))

	onlyNew, err := New(Config{Issuer: "Acme", Store: f.store, EncryptionKeys: []EncryptionKey{newKey}, Now: f.clock.Now})
	require.NoError(t, err)
	f.clock.Advance(period * time.Second)
	require.NoError(t, onlyNew.Verify(f.ctx, "u", k.Code(f.clock.Now())))
	require.ErrorIs(t, onlyNew.Verify(f.ctx, "idle", k2.Code(f.clock.Now())), ErrSecretUnreadable)
	// The old server can no longer read the re-encrypted record.
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

// TestRecordFromBeforeTheRename: a record stored by the releases whose
// Config called these keys SealingKeys (testdata/record-v1.json, written by
// that code) decrypts under the same key given as EncryptionKeys: its
// confirmed key verifies, and its pending new key confirms.
func TestRecordFromBeforeTheRename(t *testing.T) {
	var v1 struct {
		KeyID, Key, Account, URI, NextURI string
		Now                               int64
		Record                            *Record
	}
	b, err := os.ReadFile("testdata/record-v1.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &v1))
	key, err := hex.DecodeString(v1.Key)
	require.NoError(t, err)
	k, err := ParseKeyURI(v1.URI)
	require.NoError(t, err)
	next, err := ParseKeyURI(v1.NextURI)
	require.NoError(t, err)
	require.NotNil(t, v1.Record.Next)

	e, err := newEncrypter([]EncryptionKey{{ID: v1.KeyID, Key: key}})
	require.NoError(t, err)
	secret, id, err := e.decrypt(v1.Account, v1.Record.Algorithm, v1.Record.Digits, v1.Record.Secret)
	require.NoError(t, err)
	require.Equal(t, v1.KeyID, id)
	require.Equal(t, k.secret, secret)
	secret, _, err = e.decrypt(v1.Account, v1.Record.Next.Algorithm, v1.Record.Next.Digits, v1.Record.Next.Secret)
	require.NoError(t, err)
	require.Equal(t, next.secret, secret)

	store := &MemoryStore{}
	ok, err := store.CompareAndSwap(context.Background(), v1.Account, 0, v1.Record)
	require.NoError(t, err)
	require.True(t, ok)
	clk := testclock.New(time.Unix(v1.Now, 0).Add(10 * period * time.Second))
	a, err := New(Config{Issuer: "Acme", Store: store, EncryptionKeys: []EncryptionKey{{ID: v1.KeyID, Key: key}}, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, a.Verify(context.Background(), v1.Account, k.Code(clk.Now())))
	clk.Advance(period * time.Second)
	require.NoError(t, a.ConfirmReenroll(context.Background(), v1.Account, next.Code(clk.Now())))

	// The same record under another key does not decrypt.
	other, err := New(Config{Issuer: "Acme", Store: store, EncryptionKeys: []EncryptionKey{{ID: v1.KeyID, Key: make([]byte, 32)}}, Now: clk.Now})
	require.NoError(t, err)
	clk.Advance(period * time.Second)
	require.ErrorIs(t, other.Verify(context.Background(), v1.Account, next.Code(clk.Now())), ErrSecretUnreadable)
}
