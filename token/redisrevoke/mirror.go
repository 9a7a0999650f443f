package redisrevoke

import (
	"encoding/base64"
	"math"
	"time"

	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/internal/lexical"
)

// The mirror is three token.MemoryRevocations (see List): what Redis
// held at the last rebuild, what arrived since, and, while a rebuild
// runs, what had arrived before it. token decides what is revoked and
// what is a token ID or a subject; this package only moves entries
// between the mirror and Redis, whose records hold an ID as its 16 bytes
// and its token's expiry in 32 bits.

// id is a token ID as Redis holds it: the 16 bytes its jti encodes.
type id = [16]byte

// entry is one revoked token ID as a record of Redis holds it.
type entry struct {
	id  id
	exp uint32 // Unix seconds; 0: never
}

// entryOf returns the record of a revocation that token accepted: jti is
// then canonical base64url of 16 bytes. The expiry is rounded up to the
// second, as token keeps it; one beyond 2106 is kept as never: longer,
// never shorter, than asked.
func entryOf(jti string, expires time.Time) (entry, bool) {
	var e entry
	var ok bool
	if e.id, ok = lexical.TokenID(jti); !ok {
		return e, false
	}
	if !expires.IsZero() {
		s := expires.Unix()
		if expires.Nanosecond() > 0 {
			s++
		}
		if s > 0 && s <= math.MaxUint32 {
			e.exp = uint32(s)
		}
	}
	return e, true
}

// expiryTime is the expiry of a record as RevokeID takes it.
func expiryTime(exp uint32) time.Time {
	if exp == 0 {
		return time.Time{}
	}
	return time.Unix(int64(exp), 0)
}

func formatID(k id) string { return base64.RawURLEncoding.EncodeToString(k[:]) }

// expired reports whether a token expiring at expires is already refused
// at t, so that its revocation needs to be kept nowhere.
func expired(expires, t time.Time) bool {
	return !expires.IsZero() && !t.Before(expires.Add(token.Leeway))
}
