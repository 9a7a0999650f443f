package benchmarks

import (
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/latchsec/latch/token"
)

// How costs grow with the work: the benchmarks here measure one operation
// at several sizes of the state it consults, and report what each unit of
// state costs in memory. The sizes are the issue's: a million revoked
// tokens, a thousand subscribers to one topic, ten thousand connected
// devices.

// revokedSizes are the sizes of the revocation list in
// BenchmarkTokenVerifyRevoked, by implementation name.
var revokedSizes = []struct {
	impl string
	n    int
}{{"latch-empty", 0}, {"latch-10k", 10_000}, {"latch-1m", 1_000_000}}

// revokedTokens is how many different tokens BenchmarkTokenVerifyRevoked
// verifies in turn, so that its lookups fall all over the list, as a
// server's do, rather than on one place the CPU keeps in its cache.
const revokedTokens = 1 << 14

// BenchmarkTokenVerifyRevoked measures Verify (as BenchmarkTokenVerify/latch
// does) with 0, 10,000 and 1,000,000 revoked IDs in a MemoryRevocations:
// the time must not grow with the list. The tokens verified are not
// revoked (the common case: a lookup that finds nothing); they are
// revokedTokens different ones, verified in turn. Each list is built once
// per run, outside the timer, and bytes/revoked-id is the growth of the
// live heap while it is built, after a collection, divided by its size.
func BenchmarkTokenVerifyRevoked(b *testing.B) {
	f := newTokenFixture(b)
	ctx := context.Background()
	toks := make([]string, revokedTokens+1)
	for i := range toks {
		tok, err := f.issuer.Issue(ctx, token.Claims{
			Subject: benchSubject, Scopes: benchScopes, Apps: benchApps, Expires: time.Now().Add(time.Hour),
		})
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	victimTok := toks[len(toks)-1]
	toks = toks[:len(toks)-1]
	victim, err := f.verifier.Verify(ctx, victimTok)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for _, size := range revokedSizes {
		revs := &token.MemoryRevocations{}
		heap := liveHeap()
		for range size.n {
			var id [16]byte
			for i := range id {
				id[i] = byte(rng.Uint32())
			}
			if err := revs.RevokeID(ctx, base64.RawURLEncoding.EncodeToString(id[:]), time.Now().Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		perID := float64(liveHeap()-heap) / float64(max(size.n, 1))
		v := *f.verifier
		v.Revocations = revs
		if size.n > 0 {
			// The list is really consulted: a revoked token is refused.
			if err := revs.RevokeID(ctx, victim.ID, victim.Expires); err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(ctx, victimTok); !errors.Is(err, token.ErrRevoked) {
				b.Fatalf("a revoked token is not refused: %v", err)
			}
		}
		b.Run(size.impl, func(b *testing.B) {
			for _, tok := range toks[:4] {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b)
			if size.n > 0 {
				b.ReportMetric(perID, "bytes/revoked-id")
			}
		})
		runtime.KeepAlive(revs)
	}
}

// liveHeap returns the bytes of live heap objects, after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
