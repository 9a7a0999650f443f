package platform

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/latchsec/latch/totp"
)

// totpStore is a totp.Store on SQLite. A record's versions are counted per
// account and survive deletion (the row keeps its version with a NULL
// record), so a version is never given twice, as totp.Record.Version asks.
// The record holds the TOTP secret encrypted by package totp and recovery
// codes as hashes; nothing in it is a secret in the clear.
type totpStore struct{ db *sql.DB }

func (s totpStore) Load(ctx context.Context, account string) (*totp.Record, error) {
	var version uint64
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT version, record FROM totp_records WHERE account = ?`, account).Scan(&version, &data)
	if errors.Is(err, sql.ErrNoRows) || err == nil && data == nil {
		return nil, totp.ErrNotEnrolled
	}
	if err != nil {
		return nil, err
	}
	var r totp.Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	r.Version = version
	return &r, nil
}

func (s totpStore) CompareAndSwap(ctx context.Context, account string, old uint64, next *totp.Record) (ok bool, err error) {
	var data []byte
	if next != nil {
		if data, err = json.Marshal(next); err != nil {
			return false, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if !ok || err != nil {
			tx.Rollback()
		}
	}()
	var version uint64
	var stored []byte
	err = tx.QueryRowContext(ctx, `SELECT version, record FROM totp_records WHERE account = ?`, account).Scan(&version, &stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		version = 0
	case err != nil:
		return false, err
	}
	current := version
	if stored == nil {
		current = 0 // no record (never made, or deleted)
	}
	if current != old {
		return false, nil
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO totp_records (account, version, record) VALUES (?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET version = excluded.version, record = excluded.record`,
		account, version+1, data); err != nil {
		return false, err
	}
	if err = tx.Commit(); err != nil {
		return false, err
	}
	return true, nil
}
