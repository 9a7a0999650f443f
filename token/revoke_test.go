package token

import (
	"crypto/rand"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRevokeID(t *testing.T) {
	f := newFixture(t, "")
	tok, other := f.issue(t), f.issue(t)
	c, err := f.v.Verify(t.Context(), tok)
	require.NoError(t, err)

	require.NoError(t, f.revs.RevokeID(t.Context(), c.ID, c.Expires))
	_, err = f.v.Verify(t.Context(), tok)
	requireRefused(t, err, ErrRevoked, tok)
	_, err = f.v.Verify(t.Context(), other)
	require.NoError(t, err, "only the revoked token is refused")

	// Past its expiry the token is refused as expired, and the entry is
	// no longer needed.
	f.clock.Advance(time.Hour + Leeway)
	_, err = f.v.Verify(t.Context(), tok)
	require.ErrorIs(t, err, ErrExpired)
	require.False(t, f.revs.idRevoked(c.ID, f.clock.Now()))

	require.Error(t, f.revs.RevokeID(t.Context(), "not-an-id", time.Time{}))
}

func TestRevokeIDNeverExpiring(t *testing.T) {
	f := newFixture(t, "")
	tok, _, err := f.is.Issue(t.Context(), Claims{Subject: "integrator-7", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	c, err := f.v.Verify(t.Context(), tok)
	require.NoError(t, err)
	require.NoError(t, f.revs.RevokeID(t.Context(), c.ID, c.Expires))
	f.clock.Advance(100 * 365 * 24 * time.Hour)
	_, err = f.v.Verify(t.Context(), tok)
	require.ErrorIs(t, err, ErrRevoked)
	// A later revocation with an expiry does not shorten a permanent one.
	require.NoError(t, f.revs.RevokeID(t.Context(), c.ID, f.clock.Now().Add(time.Minute)))
	f.clock.Advance(time.Hour)
	_, err = f.v.Verify(t.Context(), tok)
	require.ErrorIs(t, err, ErrRevoked)
}

// TestRevokedIDsAreForgotten checks that entries of expired tokens are
// dropped, so the list stays as small as the set of live revoked tokens.
func TestRevokedIDsAreForgotten(t *testing.T) {
	c := newClock()
	m := &MemoryRevocations{Now: c.Now}
	id := func() string {
		var b [16]byte
		rand.Read(b[:])
		return b64(b[:])
	}
	for range 1000 {
		require.NoError(t, m.RevokeID(t.Context(), id(), c.Now().Add(time.Hour)))
	}
	permanent := id()
	require.NoError(t, m.RevokeID(t.Context(), permanent, time.Time{}))
	c.Advance(time.Hour + Leeway)
	for range 1100 {
		require.NoError(t, m.RevokeID(t.Context(), id(), c.Now().Add(time.Hour)))
	}
	require.Equal(t, 1101, m.size(), "the 1000 expired entries are gone, the permanent one stays")
	require.True(t, m.idRevoked(permanent, c.Now()))

	// Revoking an already expired token stores nothing.
	require.NoError(t, m.RevokeID(t.Context(), id(), c.Now().Add(-Leeway)))
	require.Equal(t, 1101, m.size())
}

func (m *MemoryRevocations) size() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ids.Len()
}

func TestRevokeSubject(t *testing.T) {
	f := newFixture(t, "")
	old := f.issue(t)
	f.clock.Advance(10*time.Second + 500*time.Millisecond)
	signOut := f.clock.Now().Add(-200 * time.Millisecond)
	// Issued 200 ms after the sign-out, in the same second: tokens carry
	// whole seconds, so it is revoked too (the documented, safe side).
	sameSecond := f.issue(t)
	other, _, err := f.is.Issue(t.Context(), Claims{Subject: "user-43", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)

	require.NoError(t, f.revs.RevokeSubject(t.Context(), "user-42", signOut))
	for _, tok := range []string{old, sameSecond} {
		_, err := f.v.Verify(t.Context(), tok)
		requireRefused(t, err, ErrRevoked, tok)
	}
	_, err = f.v.Verify(t.Context(), other)
	require.NoError(t, err, "another subject is not affected")

	f.clock.Advance(time.Second)
	fresh := f.issue(t)
	_, err = f.v.Verify(t.Context(), fresh)
	require.NoError(t, err, "tokens issued after the sign-out work")

	// An earlier time does not undo the later one.
	require.NoError(t, f.revs.RevokeSubject(t.Context(), "user-42", signOut.Add(-time.Hour)))
	_, err = f.v.Verify(t.Context(), sameSecond)
	require.ErrorIs(t, err, ErrRevoked)
	require.Error(t, f.revs.RevokeSubject(t.Context(), "", signOut))
}

// TestRevokeSubjectOnTheSecond: a sign-out time that falls exactly on a
// second revokes the tokens of that second too, and none of the next, in
// memory and after a JSON round trip alike.
func TestRevokeSubjectOnTheSecond(t *testing.T) {
	f := newFixture(t, "")
	f.clock.Set(f.clock.Now().Truncate(time.Second).Add(10 * time.Second))
	signOut := f.clock.Now() // whole second
	atSignOut := f.issue(t)
	f.clock.Advance(999 * time.Millisecond)
	laterSameSecond := f.issue(t)
	f.clock.Advance(time.Millisecond)
	nextSecond := f.issue(t)
	require.NoError(t, f.revs.RevokeSubject(t.Context(), "user-42", signOut))

	data, err := json.Marshal(f.revs)
	require.NoError(t, err)
	var back MemoryRevocations
	require.NoError(t, json.Unmarshal(data, &back))
	for _, revs := range []Revocations{f.revs, &back} {
		f.v.Revocations = revs
		for _, tok := range []string{atSignOut, laterSameSecond} {
			_, err := f.v.Verify(t.Context(), tok)
			requireRefused(t, err, ErrRevoked, tok)
		}
		_, err = f.v.Verify(t.Context(), nextSecond)
		require.NoError(t, err)
	}
}

func TestRevokeConcurrent(t *testing.T) {
	f := newFixture(t, "")
	toks := make([]string, 20)
	for i := range toks {
		toks[i] = f.issue(t)
	}
	var wg sync.WaitGroup
	for i, tok := range toks {
		wg.Go(func() {
			c, err := f.v.Verify(t.Context(), tok)
			if err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := f.revs.RevokeID(t.Context(), c.ID, c.Expires); err != nil {
					t.Error(err)
				}
			}
			_, _ = f.v.Verify(t.Context(), tok)
		})
	}
	wg.Wait()
	for i, tok := range toks {
		_, err := f.v.Verify(t.Context(), tok)
		if i%2 == 0 {
			require.ErrorIs(t, err, ErrRevoked)
		} else {
			require.NoError(t, err)
		}
	}
}

// TestRevocationsJSON: a list saved and read back revokes exactly the same
// tokens, a sub-second "before" time included.
func TestRevocationsJSON(t *testing.T) {
	f := newFixture(t, "")
	byID := f.issue(t)
	never, _, err := f.is.Issue(t.Context(), Claims{Subject: "user-7", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	cID, err := f.v.Verify(t.Context(), byID)
	require.NoError(t, err)
	cNever, err := f.v.Verify(t.Context(), never)
	require.NoError(t, err)
	require.NoError(t, f.revs.RevokeID(t.Context(), cID.ID, cID.Expires))
	require.NoError(t, f.revs.RevokeID(t.Context(), cNever.ID, time.Time{}))
	bySubject, _, err := f.is.Issue(t.Context(), Claims{Subject: "user-9", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)
	// Half a second into the token's second: the token is revoked.
	require.NoError(t, f.revs.RevokeSubject(t.Context(), "user-9", f.clock.Now().Add(500*time.Millisecond)))
	f.clock.Advance(time.Second)
	fine, _, err := f.is.Issue(t.Context(), Claims{Subject: "user-9", Scopes: []string{"data:read"}, NeverExpires: true})
	require.NoError(t, err)

	b, err := f.revs.MarshalJSON()
	require.NoError(t, err)
	back := &MemoryRevocations{Now: f.clock.Now}
	require.NoError(t, back.UnmarshalJSON(b))
	again, err := back.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(again))

	v := *f.v
	v.Revocations = back
	for _, tok := range []string{byID, never, bySubject} {
		_, err := v.Verify(t.Context(), tok)
		requireRefused(t, err, ErrRevoked, tok)
	}
	_, err = v.Verify(t.Context(), fine)
	require.NoError(t, err, "a token issued a second after the subject's time")

	// Expired entries are left out.
	f.clock.Advance(2 * time.Hour)
	b, err = f.revs.MarshalJSON()
	require.NoError(t, err)
	var doc map[string]map[string]int64
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, map[string]int64{cNever.ID: 0}, doc["ids"])
}

func TestRevocationsJSONRefused(t *testing.T) {
	id := "AAAAAAAAAAAAAAAAAAAAAA"
	for name, doc := range map[string]string{
		"not JSON":          `{"ids":`,
		"duplicate member":  `{"ids":{},"ids":{}}`,
		"unknown member":    `{"ids":{},"subjects":{},"tokens":[]}`,
		"not a token ID":    `{"ids":{"abc":0},"subjects":{}}`,
		"negative expiry":   `{"ids":{"` + id + `":-1},"subjects":{}}`,
		"expiry past 9999":  `{"ids":{"` + id + `":253402300800},"subjects":{}}`,
		"control character": `{"ids":{},"subjects":{"a\u0001":1}}`,
		"string time":       `{"ids":{},"subjects":{"a":"2026-01-01"}}`,
		// encoding/json merged these into ids and subjects.
		"member in another case":      `{"ids":{},"IDs":{"` + id + `":0},"subjects":{}}`,
		"member only in another case": `{"ids":{},"Subjects":{"kept":0}}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := &MemoryRevocations{}
			require.NoError(t, m.RevokeSubject(t.Context(), "kept", time.Unix(100, 0)))
			require.Error(t, m.UnmarshalJSON([]byte(doc)))
			b, err := m.MarshalJSON()
			require.NoError(t, err)
			require.JSONEq(t, `{"ids":{},"subjects":{"kept":100}}`, string(b), "a refused document changes nothing")
		})
	}
}

func TestInspect(t *testing.T) {
	f := newFixture(t, "lt_")
	tok := f.issue(t)
	want, err := f.v.Verify(t.Context(), tok)
	require.NoError(t, err)

	// Inspect shows the claims whatever the time, issuer or revocation.
	f.clock.Advance(48 * time.Hour)
	require.NoError(t, f.revs.RevokeID(t.Context(), want.ID, time.Time{}))
	c, kid, err := f.v.Inspect(tok)
	require.NoError(t, err)
	require.Equal(t, want, c)
	require.Equal(t, f.keys.ActiveKeyID(), kid)

	_, _, err = (&Config{Keys: f.keys}).Inspect(tok)
	requireRefused(t, err, ErrMalformed, tok)
	_, _, err = (&Config{Keys: NewKeyring(), Prefix: "lt_"}).Inspect(tok)
	requireRefused(t, err, ErrUnknownKey, tok)
	tampered := tok[:len(tok)-30] + string(rune(tok[len(tok)-30]^1)) + tok[len(tok)-29:]
	_, _, err = f.v.Inspect(tampered)
	require.ErrorIs(t, err, ErrInvalid)
	_, _, err = (&Config{}).Inspect(tok)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrInvalid)
}

// TestRevokeIDFarExpiry: an expiry past the year 9999 (no token has one)
// keeps the entry for ever, and the list still reads back from its JSON.
func TestRevokeIDFarExpiry(t *testing.T) {
	c := newClock()
	m := &MemoryRevocations{Now: c.Now}
	id := "AAAAAAAAAAAAAAAAAAAAAA"
	require.NoError(t, m.RevokeID(t.Context(), id, time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.True(t, m.idRevoked(id, c.Now().AddDate(1000, 0, 0)))
	b, err := m.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, `{"ids":{"`+id+`":0},"subjects":{}}`, string(b))
	require.NoError(t, (&MemoryRevocations{}).UnmarshalJSON(b))

	// An expiry of a split second past a whole second is rounded up, never
	// down: the entry outlives the token.
	exp := c.Now().Add(time.Hour + 300*time.Millisecond)
	other := "BBBBBBBBBBBBBBBBBBBBBA"
	require.NoError(t, m.RevokeID(t.Context(), other, exp))
	require.True(t, m.idRevoked(other, exp.Add(Leeway-time.Nanosecond)))
	require.False(t, m.idRevoked(other, exp.Add(Leeway+time.Second)))
}

// TestRevocationsMerge: each ID keeps the later expiry and each subject
// the later time; entries of expired tokens are left out; exactly the
// entries that changed the list are reported, with arguments that make
// the same change on a third list; merging a list into itself changes
// nothing.
func TestRevocationsMerge(t *testing.T) {
	c := newClock()
	ctx := t.Context()
	now := c.Now()
	dst, src := &MemoryRevocations{Now: c.Now}, &MemoryRevocations{Now: c.Now}
	id := func(b byte) string { return b64(append(make([]byte, 15), b)) }
	hour := now.Add(time.Hour).Truncate(time.Second)
	require.NoError(t, dst.RevokeID(ctx, id(1), hour))                      // src's is later
	require.NoError(t, dst.RevokeID(ctx, id(2), time.Time{}))               // never: src's changes nothing
	require.NoError(t, dst.RevokeID(ctx, id(3), hour.Add(time.Hour)))       // src's is earlier
	require.NoError(t, src.RevokeID(ctx, id(1), hour.Add(2*time.Hour)))     // reported
	require.NoError(t, src.RevokeID(ctx, id(2), hour))                      // not
	require.NoError(t, src.RevokeID(ctx, id(3), hour))                      // not
	require.NoError(t, src.RevokeID(ctx, id(4), time.Time{}))               // reported, for ever
	require.NoError(t, src.RevokeID(ctx, id(5), now.Add(time.Second)))      // expired by the merge
	require.NoError(t, dst.RevokeSubject(ctx, "alice", now))                // src's is later
	require.NoError(t, dst.RevokeSubject(ctx, "bob", now))                  // src's is earlier
	require.NoError(t, src.RevokeSubject(ctx, "alice", now.Add(time.Hour))) // reported
	require.NoError(t, src.RevokeSubject(ctx, "bob", now.Add(-time.Hour)))  // not
	require.NoError(t, src.RevokeSubject(ctx, "carol", now))                // reported
	require.NoError(t, dst.RevokeSubject(ctx, "dave", now.Truncate(time.Second)))
	require.NoError(t, src.RevokeSubject(ctx, "dave", now.Truncate(time.Second).Add(500*time.Millisecond))) // same second: not
	c.Advance(time.Second + Leeway)

	third := &MemoryRevocations{Now: c.Now}
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	ids, subjects := map[string]int64{}, map[string]int64{}
	dst.Merge(src, func(id string, expires time.Time) {
		ids[id] = unix(expires)
		require.NoError(t, third.RevokeID(ctx, id, expires))
	}, func(subject string, before time.Time) {
		subjects[subject] = unix(before)
		require.NoError(t, third.RevokeSubject(ctx, subject, before))
	})
	require.Equal(t, map[string]int64{id(1): hour.Add(2 * time.Hour).Unix(), id(4): 0}, ids)
	require.Equal(t, map[string]int64{"alice": now.Add(time.Hour).Unix(), "carol": now.Unix()}, subjects)

	for b, want := range map[byte]time.Time{1: hour.Add(2 * time.Hour), 2: {}, 3: hour.Add(time.Hour), 4: {}} {
		exp, ok := dst.ids.Get([16]byte{15: b})
		require.True(t, ok, "id %d", b)
		if want.IsZero() {
			require.Zero(t, exp)
		} else {
			require.Equal(t, want.Unix(), exp, "id %d", b)
		}
	}
	require.False(t, dst.idRevoked(id(5), c.Now()))
	require.Equal(t, now.Add(time.Hour), dst.subjects["alice"])
	require.Equal(t, now, dst.subjects["bob"])
	require.Equal(t, now, dst.subjects["carol"])
	require.True(t, third.idRevoked(id(1), hour.Add(2*time.Hour)))
	require.False(t, third.idRevoked(id(1), hour.Add(2*time.Hour+Leeway)))
	require.True(t, third.idRevoked(id(4), c.Now().AddDate(100, 0, 0)))

	// Nothing left to report: a second merge, and a merge into itself.
	dst.Merge(src, func(string, time.Time) { t.Error("reported twice") }, func(string, time.Time) { t.Error("reported twice") })
	dst.Merge(dst, func(string, time.Time) { t.Error("self") }, nil)
}

// TestRevocationsMergeConcurrent: two lists may merge into each other at
// once while they are read and written (run with -race).
func TestRevocationsMergeConcurrent(t *testing.T) {
	c := newClock()
	a, b := &MemoryRevocations{Now: c.Now}, &MemoryRevocations{Now: c.Now}
	ctx := t.Context()
	var wg sync.WaitGroup
	for _, l := range []*MemoryRevocations{a, b} {
		wg.Go(func() {
			for range 200 {
				var k [16]byte
				rand.Read(k[:])
				require.NoError(t, l.RevokeID(ctx, b64(k[:]), c.Now().Add(time.Hour)))
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			a.Merge(b, nil, nil)
		}
	})
	wg.Go(func() {
		for range 50 {
			b.Merge(a, nil, nil)
		}
	})
	wg.Wait()
	a.Merge(b, nil, nil)
	b.Merge(a, nil, nil)
	require.Equal(t, 400, a.size())
	require.Equal(t, 400, b.size())
}

// TestRevokeIDs: revoking many IDs at once leaves the list as RevokeID
// one after the other does (the later expiry wins, expired tokens are
// left out, an expiry past 9999 is for ever), and a list with one ID that
// is not a token ID is refused whole.
func TestRevokeIDs(t *testing.T) {
	c := newClock()
	ctx := t.Context()
	one, all := &MemoryRevocations{Now: c.Now}, &MemoryRevocations{Now: c.Now}
	type rev struct {
		id      string
		expires time.Time
	}
	var revs []rev
	for i := range 5000 {
		var k [16]byte
		rand.Read(k[:])
		id := b64(k[:])
		expires := c.Now().Add(time.Duration(i%90-30) * time.Minute) // a third already expired
		switch {
		case i%11 == 0:
			expires = time.Time{}
		case i%13 == 0:
			expires = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
		case i%5 == 0 && len(revs) > 0:
			id = revs[i/2].id // again, with another expiry
		}
		revs = append(revs, rev{id, expires})
		require.NoError(t, one.RevokeID(ctx, id, expires))
	}
	require.NoError(t, all.RevokeIDs(ctx, func(yield func(string, time.Time) bool) {
		for _, r := range revs {
			if !yield(r.id, r.expires) {
				return
			}
		}
	}))
	a, err := one.MarshalJSON()
	require.NoError(t, err)
	b, err := all.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(a), string(b))
	require.Less(t, all.size(), len(revs), "expired tokens left out")

	fresh := &MemoryRevocations{Now: c.Now}
	err = fresh.RevokeIDs(ctx, func(yield func(string, time.Time) bool) {
		_ = yield(revs[0].id, time.Time{}) && yield("not-an-id", time.Time{}) && yield(revs[1].id, time.Time{})
	})
	require.Error(t, err)
	require.Zero(t, fresh.size(), "nothing revoked")
	require.NoError(t, fresh.RevokeIDs(ctx, func(func(string, time.Time) bool) {}))
}
