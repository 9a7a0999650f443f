package redisstore

import "errors"

// ErrNotReplicated is returned, wrapped, by CompareAndSwap when the
// primary made the change but fewer than Store.Replicas replicas
// acknowledged it within ReplicaTimeout. totp then refuses to answer
// "accepted": the attempt fails with an error, and the code it used is
// spent on the primary.
var ErrNotReplicated = errors.New("redisstore: change not yet on enough replicas")

// Categories of the other errors, which wrap the cause (Redis's error, the
// context's, a JSON error); callers match the cause, if anything.
var (
	errLoad           = errors.New("redisstore: load failed")
	errSwap           = errors.New("redisstore: compare-and-swap failed")
	errReplicaTimeout = errors.New("redisstore: invalid ReplicaTimeout")
)
