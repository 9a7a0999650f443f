// Package redisstore keeps the per-account state of totp on Redis, so that
// a fleet of servers shares it: a code accepted by one server is refused as
// a replay by all, and every server counts the same failures and honours
// the same lockout. Pass [New]'s Store as totp.Config.Store:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	a, err := totp.New(totp.Config{Issuer: "Acme", Store: redisstore.New(rdb, ""), SealingKeys: keys})
//
// # Layout
//
// Each account is one Redis hash at prefix+account (prefix "latch:totp:"
// by default) with two fields: "r", the totp.Record as JSON with a "format" member
// "latch.totp.record.v1" (its secret sealed, its recovery codes hashed:
// nothing in Redis opens without the sealing keys), and "v", the record's
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
// AOF persistence and, with replicas, WAIT or min-replicas-to-write as your
// platform requires. Restrict access to Redis: anyone who can write it can
// delete an enrollment or a lockout (but cannot read a secret).
package redisstore
