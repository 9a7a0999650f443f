package storetest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchsec/latch/totp"
	"github.com/stretchr/testify/require"
)

// faultyStore is a Store that breaks one guarantee, named by fault ("" for
// none), the way a Store written in a hurry would.
type faultyStore struct {
	fault    string
	mu       sync.Mutex
	records  map[string]*totp.Record
	versions map[string]uint64
	updates  atomic.Int32 // updates that passed the compare ("racy")
}

func newFaulty(fault string) *faultyStore {
	return &faultyStore{fault: fault, records: map[string]*totp.Record{}, versions: map[string]uint64{}}
}

func (s *faultyStore) key(account string) string {
	if s.fault == "one-account" {
		return ""
	}
	return account
}

func (s *faultyStore) Load(ctx context.Context, account string) (*totp.Record, error) {
	if err := ctx.Err(); err != nil && s.fault != "ignores-context" {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[s.key(account)]
	switch {
	case !ok && s.fault == "not-found-nil":
		return nil, nil
	case !ok:
		return nil, totp.ErrNotEnrolled
	case s.fault == "shares-loaded-record":
		return r, nil
	}
	return clone(r), nil
}

func (s *faultyStore) CompareAndSwap(ctx context.Context, account string, old uint64, next *totp.Record) (bool, error) {
	if err := ctx.Err(); err != nil && s.fault != "ignores-context" && s.fault != "writes-when-canceled" {
		return false, err
	}
	k := s.key(account)
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur uint64
	if r, ok := s.records[k]; ok {
		cur = r.Version
	}
	match := cur == old ||
		s.fault == "create-any-version" && cur == 0 ||
		s.fault == "last-write-wins" && cur != 0 && old != 0 ||
		s.fault == "delete-ignores-version" && next == nil && cur != 0
	if !match {
		return false, nil
	}
	if s.fault == "racy" && old != 0 {
		// An update that compares, then writes in a second step (SELECT
		// the version, then UPDATE without "WHERE version = old"); a
		// create is atomic (an INSERT on a unique key). Let a second
		// update pass the same compare before writing, as the race
		// would: the concurrent check starts many at once.
		// Every other store compares and writes under one lock.
		s.mu.Unlock()
		s.updates.Add(1)
		for i := 0; i < 1<<24 && s.updates.Load() < 2; i++ { // the bound only keeps a broken suite from hanging
			runtime.Gosched()
		}
		s.mu.Lock()
	}
	if next == nil {
		delete(s.records, k)
		if s.fault == "versions-restart" {
			delete(s.versions, k)
		}
	} else {
		c := clone(next)
		switch s.fault {
		case "keeps-callers-record":
			c = next
		case "drops-next":
			c.Next = nil
		case "truncates-times":
			c.LockedUntil = c.LockedUntil.Truncate(time.Second)
		}
		s.versions[k]++
		c.Version = s.versions[k]
		if s.fault == "trusts-caller-version" && next.Version != 0 {
			c.Version = next.Version
		}
		s.records[k] = c
	}
	if err := ctx.Err(); err != nil && s.fault == "writes-when-canceled" {
		return false, err
	}
	return true, nil
}

func clone(r *totp.Record) *totp.Record {
	c := *r
	c.Secret = slices.Clone(r.Secret)
	c.Recovery = nil
	for _, h := range r.Recovery {
		c.Recovery = append(c.Recovery, slices.Clone(h))
	}
	if r.Next != nil {
		n := *r.Next
		n.Secret = slices.Clone(n.Secret)
		c.Next = &n
	}
	return &c
}

// recorder is a tb that records failures; FailNow ends the check's
// goroutine, as it does a test's.
type recorder struct {
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() {
	r.failed = true
	runtime.Goexit()
}

func runCheck(c check, s totp.Store) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(r, s)
	}()
	<-done
	return r
}

// TestFaultsCaught: for each way of breaking the contract, the check of
// that guarantee fails on a fresh store with that fault, and every check
// catches at least one fault. The faultless store passes every check.
func TestFaultsCaught(t *testing.T) {
	faults := []struct{ fault, check string }{
		{"not-found-nil", "NotEnrolled"},
		{"create-any-version", "Create"},
		{"last-write-wins", "CompareAndSwap"},
		{"delete-ignores-version", "Delete"},
		{"versions-restart", "VersionsNeverReused"},
		{"trusts-caller-version", "CallerVersionIgnored"},
		{"keeps-callers-record", "Copies"},
		{"shares-loaded-record", "Copies"},
		{"one-account", "AccountsSeparate"},
		{"drops-next", "RoundTrip"},
		{"truncates-times", "RoundTrip"},
		{"racy", "Concurrent"},
		{"ignores-context", "Canceled"},
		{"writes-when-canceled", "Canceled"},
	}
	byName := map[string]check{}
	for _, c := range checks {
		byName[c.name] = c
		t.Run("none/"+c.name, func(t *testing.T) {
			r := runCheck(c, newFaulty(""))
			require.False(t, r.failed, strings.Join(r.msgs, "\n"))
		})
	}
	caught := map[string]bool{}
	for _, f := range faults {
		c, ok := byName[f.check]
		require.True(t, ok, f.check)
		t.Run(f.fault+"/"+f.check, func(t *testing.T) {
			r := runCheck(c, newFaulty(f.fault))
			require.True(t, r.failed, "%s does not catch a store that %s", f.check, f.fault)
			t.Log(strings.Join(r.msgs, "\n"))
		})
		caught[f.check] = true
	}
	for _, c := range checks {
		require.True(t, caught[c.name], "no faulty store shows that %s can fail", c.name)
	}
}
