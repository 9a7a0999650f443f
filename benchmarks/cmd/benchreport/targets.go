package main

// target is a bound from an issue: the median of impl's unit, divided by the
// median of base's in the same run, is at most max (at least max if
// atLeast). With base empty, the median itself is bounded.
type target struct {
	op, impl, base, unit string
	max                  float64
	atLeast              bool
	// baseOp is the operation of base when it is not op (a target that
	// compares two operations, such as a CONNECT check with a token
	// verification); baseUnit is base's unit when it is not unit.
	baseOp, baseUnit string
	// growth, if set, puts the target in the "How costs grow" table, with
	// this text in its "grows" column; info, a row of that table that
	// shows a figure and has no bound.
	growth string
	info   bool
	// note explains, below the table, a target that is missed: what the
	// figure is made of, from a profile.
	note string
}

// baseUnitOf is the unit of the target's base.
func (t target) baseUnitOf() string {
	if t.baseUnit != "" {
		return t.baseUnit
	}
	return t.unit
}

// met reports whether v meets the target.
func (t target) met(v float64) bool {
	if t.info {
		return true
	}
	if t.atLeast {
		return v >= t.max
	}
	return v <= t.max
}

// baseOpOf is the operation the target's base belongs to.
func (t target) baseOpOf() string {
	if t.baseOp != "" {
		return t.baseOp
	}
	return t.op
}

// targets are the speed and memory targets the issues set.
var targets = []target{
	{op: "TLSHandshake", impl: "pinleaf", base: "cacheck", unit: "ns/op", max: 0.95},
	{op: "TLSHandshake", impl: "pinintermediate", base: "cacheck", unit: "ns/op", max: 1.0},

	// Issue 4, token.
	{op: "TokenVerify", impl: "latch", base: "jwx", unit: "ns/op", max: 0.1667},
	{op: "TokenVerify", impl: "latch", base: "golangjwt", unit: "ns/op", max: 0.5},
	{op: "TokenVerify", impl: "latch", unit: "allocs/op", max: 20},
	{op: "TokenIssue", impl: "latch", base: "jwx", unit: "ns/op", max: 0.25},

	// Issue 5, totp; issue 18 lowered the bound from 1.5.
	{op: "TOTPVerify", impl: "latch", base: "pquerna", unit: "ns/op", max: 1.0},

	// Issue 6, sealedbox.
	{op: "Seal", impl: "latch-hybrid", base: "hpke-hybrid", unit: "ns/op", max: 1.1},
	{op: "Seal", impl: "latch-x25519", base: "hpke-x25519", unit: "ns/op", max: 1.1},
	{op: "Open", impl: "latch-hybrid", base: "hpke-hybrid", unit: "ns/op", max: 1.1},
	{op: "Open", impl: "latch-x25519", base: "hpke-x25519", unit: "ns/op", max: 1.1},
	{op: "Seal", impl: "latch-hybrid", base: "age-x25519", unit: "ns/op", max: 1.0},

	// The same speed targets on CPU time per operation (cpu-ns/op, from
	// getrusage over the benchmark's loop), which does not count the time a
	// benchmark waits for a CPU held by another process: on a shared
	// machine these are the ratios to trust when the ns/op ones disagree.
	{op: "TokenVerify", impl: "latch", base: "jwx", unit: "cpu-ns/op", max: 0.1667},
	{op: "TokenVerify", impl: "latch", base: "golangjwt", unit: "cpu-ns/op", max: 0.5},
	{op: "TokenIssue", impl: "latch", base: "jwx", unit: "cpu-ns/op", max: 0.25},
	{op: "TOTPVerify", impl: "latch", base: "pquerna", unit: "cpu-ns/op", max: 1.0},
	{op: "Seal", impl: "latch-hybrid", base: "hpke-hybrid", unit: "cpu-ns/op", max: 1.1},
	{op: "Seal", impl: "latch-x25519", base: "hpke-x25519", unit: "cpu-ns/op", max: 1.1},
	{op: "Open", impl: "latch-hybrid", base: "hpke-hybrid", unit: "cpu-ns/op", max: 1.1},
	{op: "Open", impl: "latch-x25519", base: "hpke-x25519", unit: "cpu-ns/op", max: 1.1},
	{op: "Seal", impl: "latch-hybrid", base: "age-x25519", unit: "cpu-ns/op", max: 1.0},

	// Issue 8, mqttauth.
	{op: "MQTTACL", impl: "latch", base: "ledger", unit: "ns/op", max: 0.5},
	{op: "MQTTACL", impl: "latch", unit: "allocs/op", max: 0},
	{op: "MQTTConnectAuth", impl: "latch", baseOp: "TokenVerify", base: "latch", unit: "ns/op", max: 2},
	{op: "MQTTConnectAuth", impl: "latch", baseOp: "TokenVerify", base: "latch", unit: "cpu-ns/op", max: 2},
	{op: "MQTTBrokerConnect", impl: "latch", base: "allowall", unit: "ns/op", max: 1.112},

	// Issue 18: a token/redisrevoke List's full synchronization and the
	// memory its mirror holds, per revoked ID (1.5 s for 1,000,000).
	{op: "RevocationSync", impl: "latch", unit: "ns/id", max: 1500},
	{op: "RevocationSync", impl: "latch", unit: "bytes/id", max: 48},

	// Issue 7, integrator: the device footprint.
	{op: "DeviceBinary", impl: "latch", base: "nethttp", unit: "bytes/binary", max: 1.3},
}

// Notes on the growth targets, shown when one is missed.
const (
	verifyNote = "With a million revoked ids, a verification reads one slot of a 34 MB table at a random " +
		"place: a cache miss and usually a TLB miss, which the empty list (no lookup at all) does not pay. " +
		"The lookup does the same work as at 10,000 ids (a few adjacent slots); the difference is how far away " +
		"the memory is, so it grows with the machine's memory latency and the load other processes put on its caches."
	fanOutNote = "An allow-all against allow-all control run of this benchmark on the same loaded machine " +
		"gave 0.86× and 1.13× (CPU time) and 0.81× and 1.21× (wall time) at 1,000 subscribers: a shortfall of a " +
		"few per cent is within the machine's noise here. A longer run (5,000 PUBLISHes to 1,000 subscribers " +
		"each, with the collector off in the timed blocks) gave 0.99× in both, and its CPU profile, split by " +
		"the broker=latch and broker=allowall labels the benchmark sets, 3.34 µs against 3.29 µs per delivery (0.99×)."
	loadNote = "The same benchmark run alone, alternating the binaries of this tree and of the previous " +
		"session's, gave 0.90–1.33 (this tree) and 1.04–1.73 (the previous) on this machine the same hour: its " +
		"spread is wider than the target's margin. A CPU profile split by the broker labels (8 waves of 1,000 " +
		"clients on each broker) gave the Latch broker's goroutines 0.90 s and allow-all's 1.12 s: the hook does " +
		"not make the broker's own work heavier; the Latch broker allocates 1.8 % more bytes per connect " +
		"(token verification), whose collection falls outside the brokers' goroutines."
	hookNote = "hook-cpu-ns/delivery is the difference between the two brokers' CPU time per delivery, so it " +
		"carries the noise of both (see the fan-out note). The CPU profile of the same longer run measures the " +
		"hook alone: mochi's OnACLCheck took 166 ns per delivery in the Latch broker and 6 ns in allow-all's, " +
		"160 ns more, 1.6× MQTTACL/latch (100 ns on the same machine that day); the time goes to finding the client's session (a slot keyed " +
		"by the client's address, then the session), memory the broker itself does not touch for a delivery."
)

// Issue 18: how costs grow with the work. Rendered in their own table.
var growthTargets = []target{
	{growth: "revoked ids: 10,000", op: "TokenVerifyRevoked", impl: "latch-10k", base: "latch-empty", unit: "ns/op", max: 1.1},
	{growth: "revoked ids: 10,000", op: "TokenVerifyRevoked", impl: "latch-10k", base: "latch-empty", unit: "cpu-ns/op", max: 1.1},
	{growth: "revoked ids: 1,000,000", op: "TokenVerifyRevoked", impl: "latch-1m", base: "latch-empty", unit: "ns/op", max: 1.1, note: verifyNote},
	{growth: "revoked ids: 1,000,000", op: "TokenVerifyRevoked", impl: "latch-1m", base: "latch-empty", unit: "cpu-ns/op", max: 1.1, note: verifyNote},
	{growth: "revoked ids: 10,000", op: "TokenVerifyRevoked", impl: "latch-10k", unit: "bytes/revoked-id", max: 48},
	{growth: "revoked ids: 1,000,000", op: "TokenVerifyRevoked", impl: "latch-1m", unit: "bytes/revoked-id", max: 48},
	{growth: "subscribers of one topic: 100", op: "MQTTFanOut", impl: "latch-100", unit: "vs-allowall", max: 0.98, atLeast: true, note: fanOutNote},
	{growth: "subscribers of one topic: 100", op: "MQTTFanOut", impl: "latch-100", unit: "cpu-vs-allowall", max: 0.98, atLeast: true, note: fanOutNote},
	{growth: "subscribers of one topic: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "vs-allowall", max: 0.98, atLeast: true, note: fanOutNote},
	{growth: "subscribers of one topic: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "cpu-vs-allowall", max: 0.98, atLeast: true, note: fanOutNote},
	{growth: "subscribers of one topic: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "hook-cpu-ns/delivery", baseOp: "MQTTACL", base: "latch", baseUnit: "ns/op", max: 2, note: hookNote},
	{growth: "subscribers of one topic: 1,000", op: "MQTTFanOut", impl: "latch-1000", unit: "hook-ns/delivery", info: true},
	// Issue 8 set the broker load at 0.9 of allow-all's connects/s, issue
	// 18 at 0.97; both brokers are measured in alternating waves, and
	// vs-allowall is the ratio of the two rates.
	{growth: "clients connecting at once: 1,000", op: "MQTTBrokerLoad", impl: "latch", unit: "vs-allowall", max: 0.97, atLeast: true, note: loadNote},
	{growth: "clients connecting at once: 1,000", op: "MQTTBrokerLoad", impl: "latch", unit: "cpu-vs-allowall", max: 0.97, atLeast: true, note: loadNote},
	{growth: "connected clients: 10,000", op: "MQTTConnected", impl: "latch", unit: "bytes/client", info: true},
	{growth: "connected clients: 10,000", op: "MQTTConnected", impl: "allowall", unit: "bytes/client", info: true},
	{growth: "connected clients: 10,000", op: "MQTTConnected", impl: "latch", base: "allowall", unit: "bytes/client", info: true},
}

// baselines names, for operations that have no "latch" implementation
// against peers, the implementation the others are compared with.
var baselines = map[string]string{
	"TLSHandshake": "cacheck",
	// Issue 14: what signing and verifying add to sealing and opening.
	"SignedSeal": "latch-unsigned",
	"SignedOpen": "latch-unsigned",
	// Issue 15: the device's side of a pairing against the app's.
	"Pairing":            "app",
	"TokenVerifyRevoked": "latch-empty",
}
