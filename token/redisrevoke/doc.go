// Package redisrevoke is the revocation list of token shared by a fleet of
// API servers through Redis. Create one [List] per server with [New], wait
// for it with [List.Sync], and give it to the token.Verifier as its
// Revocations; revoke through any List and every server sees it.
//
//	list, err := redisrevoke.New(redisrevoke.Config{Client: rdb, Replicas: 1})
//	if err := list.Sync(ctx); err != nil { ... } // the mirror is current
//	verifier := &token.Verifier{Config: token.Config{..., Revocations: list}}
//
// Client is any redis.UniversalClient of go-redis v9: a single server
// (redis.NewClient), a primary managed by Sentinel (redis.NewFailoverClient)
// or a Cluster (redis.NewClusterClient). Redis 7 or later is required
// (sharded pub/sub). With Sentinel or Cluster, set Config.Replicas to 1.
//
// # How it works, and what it guarantees
//
// Verification never waits for Redis. Each List keeps a mirror of the whole
// list in memory and answers Revoked from it. It subscribes to the list's
// channel (SSUBSCRIBE), to which every revocation is published (SPUBLISH)
// in the same Lua script that stores it; on every (re)subscription it
// reloads the whole list, so that messages missed while disconnected are
// not lost. Every Heartbeat it sends a PING through the subscription: its
// answer arrives after every message published before it, and so confirms
// the mirror current as of the PING's sending.
//
// If the mirror has not been confirmed current for MaxStaleness (Redis
// down, a partition, a failover in progress, a List not yet synchronized),
// Revoked returns a *[StaleError], under token.ErrRevocationUnavailable:
// verification fails closed, and token.Middleware answers 503. MaxStaleness
// is therefore the longest that a server cut off from Redis may accept a
// token revoked elsewhere. The List reconnects by itself (at most a
// Heartbeat, and at most 1 s, between attempts) and serves again as soon as
// it has resynchronized.
//
// A resynchronization does not stop verification: the List builds the new
// mirror beside the old one, which goes on answering, and replaces it in
// one step; a revocation made on the server meanwhile is kept across the
// swap. The mirror is made of token.MemoryRevocations, the list a single
// server uses, so that what is revoked, and what is a token ID or a
// subject, is decided in one place: one list holds what Redis held at the
// last rebuild, another what arrived since, and a rebuild merges them
// (token.MemoryRevocations.Merge), on every resynchronization and, once
// many revocations have arrived, in the background. A revoked ID costs what
// it costs in a MemoryRevocations (29 to 44 bytes; 44 right after a full
// load, which sizes the table at once). A full resynchronization of
// 1,000,000 revoked IDs from a local Redis took 0.58 to 0.64 s (0.49 to
// 0.52 s of CPU time) on a 2-core machine, against 0.25 to 0.33 s for the
// sorted table of earlier versions (20 bytes an ID) in the same runs; on
// the same machine kept busy by other jobs (load average 7 to 11), 1.1 to
// 2.0 s (BenchmarkRevocationSync).
//
// Revocations only grow (an ID's expiry is never shortened, a subject's time
// never moved back), so mirrors and Redis merge in any order. A List writes
// back what its mirror holds and Redis lacks whenever it resynchronizes: a
// Redis that restarts empty is refilled by the fleet, and a revocation made
// while Redis was unreachable (RevokeID and RevokeSubject then return an
// error wrapping [ErrNotShared], but the revocation already holds on that
// server) reaches Redis when it returns.
//
// # Failover
//
// Redis replicates asynchronously: a primary that dies may take with it
// writes its replicas had not received. Two mechanisms keep an
// acknowledged revocation:
//
//   - With Config.Replicas = n, RevokeID and RevokeSubject return nil only
//     once the primary and n replicas hold the revocation (WAIT, bounded by
//     ReplicaTimeout); otherwise they return an error wrapping
//     [ErrNotReplicated] (or ErrNotShared). Sentinel promotes the replica
//     with the most replicated data (among those of equal
//     replica-priority), which therefore holds every revocation that a
//     replica acknowledged; so does a Cluster with one replica per primary.
//     With more replicas per Cluster primary, Redis Cluster prefers the
//     most up-to-date replica but does not promise it: set Replicas to the
//     number of replicas for the same guarantee.
//   - Every List whose mirror holds a revocation writes it back to the new
//     primary when it resynchronizes after the failover, whether or not it
//     had been acknowledged.
//
// So after a failover, every revocation for which RevokeID or RevokeSubject
// returned nil is in Redis and on every server, even if the server that
// made it died with the primary; one that returned ErrNotReplicated is in
// force as long as one List that holds it lives. After a failover that
// leaves a primary without replicas, writes return ErrNotReplicated until a
// replica is back: the revocation holds on the fleet, but Redis cannot
// promise to keep it through another failover. A List that resynchronizes
// meanwhile writes back what the new primary lacks and serves again at
// once; that its write-back is not on a replica does not keep it failing
// closed (TestResyncWithoutReplicas). During the failover each
// server answers from its mirror until MaxStaleness after its last
// confirmation, then fails closed (503) until it has resynchronized with the
// new primary, which it finds by itself (Sentinel) or by reloading the
// slots (Cluster).
//
// TestSentinelFailover proves this with one primary, one replica and three
// Sentinels: two Lists revoke without pause while the primary is killed
// (SIGKILL), one of them dying with it; afterwards every acknowledged
// revocation holds on every server and in Redis, and an API server behind
// token.Middleware never answered from a mirror unconfirmed for more than
// MaxStaleness and served again within a few hundred milliseconds of the
// new primary. TestCluster does the same on a Cluster of three primaries
// with a replica each, TestReplicaMustAcknowledge shows that nothing is
// acknowledged while the replica is frozen.
//
// # The caller's duties
//
// Run Redis on a trusted network with authentication (whoever can write
// these keys can revoke tokens, and whoever can delete them and every
// mirror's memory can un-revoke them); keep the clocks of the fleet within
// token.Leeway; choose MaxStaleness as the longest a revoked token may keep
// working on a partitioned server; with replicas, set Config.Replicas.
//
// # Redis layout
//
// With the default Prefix "latch:revoke", every key and the channel carry
// the hash tag {latch:revoke}, so that in a Cluster they live in one slot,
// on one primary: every script touches one slot, and the channel is on the
// primary that runs them, so that a PING on a subscription follows every
// message published before it.
//
//	{latch:revoke}:ids:<n>    string, for n = 0 to 1023: the IDs whose first two bytes, big-endian,
//	                          are n modulo 1024. A 4-byte header (big-endian: the number of records
//	                          when the bucket was last rewritten), then 20-byte records: the ID's 16
//	                          bytes (its jti, base64url-decoded), its token's exp as 4 bytes big-endian
//	                          Unix seconds, 0 for a token without exp (or one expiring after 2106).
//	                          An ID may appear more than once; its latest expiry counts. A bucket is
//	                          rewritten without duplicates and expired records whenever it has doubled.
//	{latch:revoke}:subjects   hash: subject → Unix second; tokens of subject with iat in or before it are revoked
//	{latch:revoke}:events     shard channel: "id <exp> <jti>" and "sub <second> <subject>"
//
// Records of expired tokens are dropped from the mirror at once, and from
// Redis when their bucket is next rewritten. Per-subject entries have no
// TTL: tokens without exp never end. Only IDs and times are stored, never
// tokens.
//
// Earlier versions kept one key prefix:id:<jti> per ID and the hash
// prefix:subjects, without a hash tag (a Cluster cannot serve them), and
// published on prefix:events with PUBLISH. Lists of this version do not read
// them: run [Migrate] once every server runs this version, and, if old
// servers revoked anything between the first new server starting and that
// moment, run it again (it copies nothing twice).
package redisrevoke
