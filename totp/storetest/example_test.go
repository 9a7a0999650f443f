package storetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/latchsec/latch/totp"
)

// rowStore is a Store written the way one is for a database, on a map
// standing in for a table of (account, version, record) rows. Its test
// calls storetest.Run on a new one:
//
//	func TestRowStore(t *testing.T) {
//		storetest.Run(t, newRowStore())
//	}
//
// The record is stored as JSON, so what Load returns is always a copy. A
// delete keeps the row's version with no record (a tombstone), so a
// version is never given twice to an account.
type rowStore struct {
	mu   sync.Mutex // a database makes the compare and the write one transaction
	rows map[string]row
}

type row struct {
	version uint64
	record  []byte // JSON; nil once deleted
}

func newRowStore() *rowStore { return &rowStore{rows: map[string]row{}} }

func (s *rowStore) Load(ctx context.Context, account string) (*totp.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rows[account]
	if r.record == nil {
		return nil, totp.ErrNotEnrolled
	}
	var rec totp.Record
	if err := json.Unmarshal(r.record, &rec); err != nil {
		return nil, err
	}
	rec.Version = r.version
	return &rec, nil
}

func (s *rowStore) CompareAndSwap(ctx context.Context, account string, old uint64, next *totp.Record) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var data []byte
	if next != nil {
		var err error
		if data, err = json.Marshal(next); err != nil { // Version is not marshaled
			return false, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rows[account]
	current := r.version
	if r.record == nil {
		current = 0 // no record: never made, or deleted
	}
	if current != old {
		return false, nil
	}
	s.rows[account] = row{version: r.version + 1, record: data}
	return true, nil
}

func Example() {
	s := newRowStore()
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
