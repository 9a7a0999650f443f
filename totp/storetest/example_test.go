package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/latchsec/latch/totp"
)

// versionedMap is a Store such as one writes for a database, here on a
// map: its tests (TestVersionedMap) call storetest.Run on a new one.
//
//	func TestVersionedMap(t *testing.T) {
//		storetest.Run(t, newVersionedMap())
//	}
type versionedMap struct {
	mu       sync.Mutex
	records  map[string]totp.Record
	versions map[string]uint64 // kept after a delete: a version is never given twice
}

func newVersionedMap() *versionedMap {
	return &versionedMap{records: map[string]totp.Record{}, versions: map[string]uint64{}}
}

func (m *versionedMap) Load(ctx context.Context, account string) (*totp.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[account]
	if !ok {
		return nil, totp.ErrNotEnrolled
	}
	return deepCopy(&r), nil
}

func (m *versionedMap) CompareAndSwap(ctx context.Context, account string, old uint64, next *totp.Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var cur uint64
	if r, ok := m.records[account]; ok {
		cur = r.Version
	}
	if cur != old {
		return false, nil
	}
	if next == nil {
		delete(m.records, account)
		return true, nil
	}
	c := deepCopy(next)
	m.versions[account]++
	c.Version = m.versions[account]
	m.records[account] = *c
	return true, nil
}

func deepCopy(r *totp.Record) *totp.Record {
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

func Example() {
	s := newVersionedMap()
	ctx := context.Background()
	ok, _ := s.CompareAndSwap(ctx, "alice", 0, &totp.Record{Digits: 6})
	r, _ := s.Load(ctx, "alice")
	fmt.Println(ok, r.Version)
	ok, _ = s.CompareAndSwap(ctx, "alice", 0, &totp.Record{Digits: 8})
	fmt.Println(ok)
	// Output:
	// true 1
	// false
}
