// Package redisrevoke is the revocation list of token shared by a fleet of
// API servers through Redis. Create one [List] per server with [New], wait
// for it with [List.Sync], and give it to the token.Verifier as its
// Revocations; revoke through any List and every server sees it.
//
//	list, err := redisrevoke.New(redisrevoke.Config{Client: redis.NewClient(opts)})
//	if err := list.Sync(ctx); err != nil { ... } // the mirror is current
//	verifier := &token.Verifier{..., Revocations: list}
//
// # How it works, and what it guarantees
//
// Verification never waits for Redis. Each List keeps a mirror of the whole
// list in memory and answers Revoked from it. It subscribes to the list's
// channel, to which every revocation is published in the same Lua script
// that stores it; on every (re)subscription it reloads the whole list
// (SCAN and HGETALL), so that messages missed while disconnected are not
// lost. Every Heartbeat it sends a PING through the subscription: its
// answer arrives after every message published before it, and so confirms
// the mirror current as of the PING's sending.
//
// If the mirror has not been confirmed current for MaxStaleness (Redis
// down, a partition, a List not yet synchronized), Revoked returns a
// *[StaleError], which wraps token.ErrRevocationUnavailable: verification
// fails closed, and token.Middleware answers 503. MaxStaleness is therefore
// the longest that a server cut off from Redis may accept a token revoked
// elsewhere. The List reconnects by itself and serves again as soon as it
// has resynchronized.
//
// Revocations only grow (an ID's expiry is never shortened, a subject's time
// never moved back), so mirrors and Redis merge in any order. A List writes
// back what its mirror holds and Redis lacks whenever it resynchronizes: a
// Redis that restarts empty is refilled by the fleet, and a revocation made
// while Redis was unreachable (RevokeID and RevokeSubject then return an
// error, but the revocation already holds on that server) reaches Redis
// when it returns.
//
// The caller's duties: run Redis on a trusted network with authentication
// (whoever can write these keys can revoke tokens, and whoever can delete
// them and every mirror's memory can un-revoke them); keep the clocks of the
// fleet within token.Leeway; choose MaxStaleness as the longest a revoked
// token may keep working on a partitioned server.
//
// # Redis layout
//
// With the default Prefix "latch:revoke":
//
//	latch:revoke:id:<jti>     string: the token's exp in Unix seconds, "0" for a token without exp;
//	                          expires (EXAT) token.Leeway after exp, never for "0"
//	latch:revoke:subjects     hash: subject → Unix second; tokens of subject with iat before it are revoked
//	latch:revoke:events       channel: "id <exp> <jti>" and "sub <second> <subject>"
//
// Per-subject entries have no TTL: tokens without exp never end. Only IDs and
// times are stored, never tokens.
package redisrevoke
