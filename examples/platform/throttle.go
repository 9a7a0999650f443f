package platform

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"
)

// Password attempts are throttled per email address (RFC 4226 §7.3 asks
// the same of codes), whether an account has it or not: every attempt is
// counted before its password is hashed, and the passwordFreeFailures-th
// attempt without a right password in between locks the address for
// passwordLockBase, doubling with each further attempt up to
// passwordLockMax. While locked, an attempt with that address is refused
// before the password is hashed, with 429 and Retry-After. Because the
// count comes first, concurrent attempts cannot outrun it: at most
// passwordFreeFailures passwords are ever evaluated for an address between
// locks, however many are sent at once. Unknown addresses are counted and
// locked alike, so a lockout tells nothing about who has an account. A
// right password clears the count, as does passwordFailureMemory without an
// attempt. The password asked again before a second-factor change
// (passwordAgain) shares the count of the account's address.
//
// The cost: whoever knows an address can keep its owner locked out (for at
// most passwordLockMax at a time); the TOTP step has the same property.
// Counts live in the platform's database, so they survive a restart; with
// several platform nodes, each keeps its own.
const (
	passwordFreeFailures  = 5
	passwordLockBase      = time.Minute
	passwordLockMax       = time.Hour
	passwordFailureMemory = 24 * time.Hour
)

// retryAfterError is a refusal to show the person that also says when to
// try again (Retry-After).
type retryAfterError struct {
	userError
	after time.Duration
}

func (e *retryAfterError) Unwrap() error { return &e.userError }

// throttledError is a refusal while an address is locked.
func throttledError(retry time.Duration) error {
	return &retryAfterError{userError{http.StatusTooManyRequests, "too_many_attempts",
		"Too many wrong passwords. Try again later."}, retry}
}

// passwordLockedFor returns how long sign-in with email stays locked (0:
// not locked).
func (ac *accounts) passwordLockedFor(ctx context.Context, email string) (time.Duration, error) {
	var until int64
	err := ac.db.QueryRowContext(ctx, `SELECT locked_until FROM password_failures WHERE email = ?`, email).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if left := time.Unix(until, 0).Sub(ac.now()); left > 0 {
		return left, nil
	}
	return 0, nil
}

// reservePassword counts an attempt with email before its password is
// hashed, and refuses it (429) if the address is locked. Counting first is
// what bounds the evaluations: of any number of attempts sent at once, at
// most passwordFreeFailures get past the count before the lock, whatever
// their order; a right password then clears the count
// (passwordSucceeded). The count that reaches passwordFreeFailures sets
// the lock, which grows with each further attempt. It also forgets counts
// that have been idle for passwordFailureMemory, so that the table stays
// small. what names the step in the audit log.
func (ac *accounts) reservePassword(ctx context.Context, email, what string) error {
	now := ac.now()
	tx, err := ac.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_failures WHERE last_failure < ? AND locked_until < ?`,
		now.Add(-passwordFailureMemory).Unix(), now.Unix()); err != nil {
		return err
	}
	var until int64
	err = tx.QueryRowContext(ctx, `SELECT locked_until FROM password_failures WHERE email = ?`, email).Scan(&until)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if left := time.Unix(until, 0).Sub(now); left > 0 {
		ac.audit.Warn(what+" refused", "step", "password", "reason", "locked")
		return throttledError(left)
	}
	var failures int
	err = tx.QueryRowContext(ctx, `INSERT INTO password_failures (email, failures, last_failure, locked_until) VALUES (?, 1, ?, 0)
		ON CONFLICT(email) DO UPDATE SET failures = failures + 1, last_failure = excluded.last_failure
		RETURNING failures`, email, now.Unix()).Scan(&failures)
	if err != nil {
		return err
	}
	if failures >= passwordFreeFailures {
		lock := passwordLockMax
		if n := failures - passwordFreeFailures; n < 6 { // 1 min << 6 > 1 h
			lock = min(passwordLockBase<<n, passwordLockMax)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_failures SET locked_until = ? WHERE email = ?`,
			now.Add(lock).Unix(), email); err != nil {
			return err
		}
		ac.audit.Warn("sign-in locked", "step", "password", "attempts", failures, "until", now.Add(lock))
	}
	return tx.Commit()
}

// passwordSucceeded resets the count of email.
func (ac *accounts) passwordSucceeded(ctx context.Context, email string) error {
	_, err := ac.db.ExecContext(ctx, `DELETE FROM password_failures WHERE email = ?`, email)
	return err
}
