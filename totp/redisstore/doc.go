// Package redisstore keeps the per-account state of totp on Redis, so that
// a fleet of servers shares it: a code accepted by one server is refused as
// a replay by all, and every server counts the same failures and honours
// the same lockout. Pass [New]'s Store as totp.Config.Store:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	a, err := totp.New(totp.Config{Issuer: "Acme", Store: redisstore.New(rdb, ""), EncryptionKeys: keys})
//
// rdb is any redis.UniversalClient of go-redis v9: a single server, a
// primary managed by Sentinel (redis.NewFailoverClient) or a Cluster
// (redis.NewClusterClient). With replicas, set [Store.Replicas] to 1 before
// the first use.
//
// # Failover
//
// Redis replicates asynchronously, so a change acknowledged by a primary
// that dies at once may be missing from the replica that replaces it. With
// Store.Replicas = n, CompareAndSwap reports a change made only once n
// replicas hold it (WAIT, bounded by ReplicaTimeout), and otherwise returns
// an error wrapping [ErrNotReplicated]: totp.Authenticator.Verify then
// answers with that error, never "accepted". A code accepted (Verify
// returned nil) is thus on a replica; Sentinel promotes the replica with
// the most replicated data, and a Cluster with one replica per primary has
// only that one, so after the failover the code is refused as a replay.
// With more replicas per Cluster primary, set Replicas to their number for
// the same guarantee. ReplicaTimeout must be shorter than the client's
// ReadTimeout (go-redis v9 reads WAIT's reply under ReadTimeout, 5 s by
// default, not under WAIT's own timeout): a Store whose wait is not is
// refused, and its CompareAndSwap fails before writing anything, so totp
// accepts no code (TestReplicaTimeoutRefused). The cost: while no replica answers (one frozen, or a
// failover that left the primary alone), no code is accepted, and a code
// tried then is spent. TestSentinelFailoverNoReplay and TestCluster prove
// the replay refusal across a SIGKILLed primary; TestReplicaMustAcknowledge
// that nothing is accepted while the replica is frozen. Without Replicas,
// a code accepted within the replication lag before a failover can be
// accepted once more after it.
//
// In a Cluster, each account is one key, so every script touches one slot;
// accounts spread over the slots.
//
// # Layout
//
// Each account is one Redis hash at prefix+account (prefix "latch:totp:"
// by default) with two fields: "r", the totp.Record as JSON with a "format" member
// "latch.totp.record.v1" (its secret encrypted, its recovery codes hashed:
// nothing in Redis decrypts without totp's encryption keys), and "v", the record's
// version. Every change runs one Lua
// script that compares the version and writes, atomically, so it works
// alike on a single server, with replicas and in a cluster (one key per
// script). Deleting a record keeps "v" for a day, so a version is never
// given twice to an account even across a delete; the tombstone then
// expires. A record whose enrollment was never confirmed expires a day
// after its last change too (totp refuses to confirm it after
// Config.EnrollmentTimeout anyway), so abandoned enrollments do not pile
// up; a confirmed record never expires.
//
// # The caller's duties
//
// Make Redis durable enough for what it holds: if it loses data (a restart
// without persistence, a failover to a lagging replica), enrollments,
// recovery codes, the last accepted steps and lockouts are lost or rolled
// back, which lets a replayed code through once or lifts a lockout. Use
// AOF persistence and, with replicas, Store.Replicas. Restrict access to
// Redis: anyone who can write it can delete an enrollment or a lockout (but
// cannot read a secret).
package redisstore
