package redisrevoke

import (
	"errors"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/token"
)

// This file holds every error of the package, in internal/reason's idiom:
// errors.Is matches the category (and the reason, where there is one) of
// every error a List returns.

var (
	// ErrClosed is returned by a List's methods after Close.
	ErrClosed = errors.New("redisrevoke: list closed")
	// ErrNotShared is under the error of RevokeID and RevokeSubject when
	// the revocation could not be written to Redis; the error of Redis is
	// under it too. The revocation holds on this server at once all the
	// same, and reaches Redis when the List next synchronizes.
	ErrNotShared = errors.New("redisrevoke: revocation not yet shared through Redis")
	// ErrNotReplicated is under the error of RevokeID and RevokeSubject
	// when the primary stored the revocation but fewer than
	// Config.Replicas replicas acknowledged it within ReplicaTimeout. It
	// holds on this server and on the primary; a failover before the
	// replicas catch up loses it from Redis until this List writes it
	// back.
	ErrNotReplicated = errors.New("redisrevoke: revocation not yet on enough replicas")
)

var closedError error = &reason.Fault{Category: ErrClosed}

// writeFailed is a write's failure, with err under it: ErrNotReplicated
// when the primary stored it, ErrNotShared otherwise.
func writeFailed(err error, onPrimary bool) error {
	if onPrimary {
		return reason.Wrap(ErrNotReplicated, nil, err)
	}
	return reason.Wrap(ErrNotShared, nil, err)
}

// errStale is the reason of a StaleError.
var errStale = errors.New("redisrevoke: revocation mirror not confirmed current")

// StaleError is returned by Revoked when the mirror has not been confirmed
// current within MaxStaleness (Redis down, a partition, a failover, a List
// that has not synchronized yet). Its category is
// token.ErrRevocationUnavailable, so verification fails closed and
// Middleware answers 503. Its message leaves the category to the caller
// that reports it (token's Verify says "revocation state unavailable").
type StaleError struct {
	reason.Fault
	// LastConfirmed is when the mirror was last known to be current; zero
	// if never.
	LastConfirmed time.Time
}

func staleError(lastConfirmed time.Time) *StaleError {
	detail := "never synchronized with Redis"
	if !lastConfirmed.IsZero() {
		detail = "since " + lastConfirmed.UTC().Format(time.RFC3339)
	}
	return &StaleError{
		Fault:         reason.Fault{Category: token.ErrRevocationUnavailable, Reason: errStale, Detail: detail},
		LastConfirmed: lastConfirmed,
	}
}

func (e *StaleError) Error() string { return e.Reason.Error() + ": " + e.Detail }

// errConfig is the category of a Config that New refuses, and of a prefix
// Migrate refuses.
var errConfig = errors.New("redisrevoke: misconfigured")

func configProblem(detail string) error { return reason.Newf(errConfig, nil, detail) }

// errMigrate is the category of Migrate's failures; Redis's error is under
// it.
var errMigrate = errors.New("redisrevoke: migrate")
