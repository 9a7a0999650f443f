package token

import (
	"time"

	"github.com/latchsec/latch/internal/strictjson"
)

// This file holds the fixed numbers: the clock leeway and the limits that
// cap the work a token, a key set or a keyring can make a server do.

// Leeway is how far the verifier's clock may be behind or ahead of the
// issuer's: a token is still accepted for Leeway after its exp, and already
// accepted Leeway before its nbf and iat. It is fixed so that every server
// of a fleet agrees on when a token ends.
const Leeway = time.Minute

// Limits on what a token can hold. They cap the work a token can make a
// verifier do; every token that satisfies them fits in maxTokenSize. The
// package doc states them in words.
const (
	maxTokenSize = 8192 // bytes of the whole token, prefix included; checked before any decoding
	maxScopes    = 32   // scopes per token
	maxApps      = 16   // application ids per token
	maxLineage   = 8    // narrowing steps from a token made by Issue
	maxText      = 256  // bytes of iss, sub, aud
	maxScopePart = 32   // bytes of a scope's resource, and of its action
	maxAppID     = 64   // bytes of an application id
	maxKeyID     = 64   // bytes of a kid

	// maxNumericDate is 9999-12-31T23:59:59Z.
	maxNumericDate = 253402300799
)

// keySize is the size of a token key: 256 bits, for A256GCM.
const keySize = 32

// maxKeys caps the keys of a keyring (one active, the others verify-only).
const maxKeys = 32

// maxKeySetSize caps the JWK Set document that ParseKeyring reads.
const maxKeySetSize = 64 << 10

// keySetLimits are far above any JWK Set of token keys.
var keySetLimits = strictjson.Limits{MaxSize: maxKeySetSize, MaxDepth: 16, MaxMembers: 256}
