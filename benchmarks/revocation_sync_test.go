package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/token/redisrevoke"
)

// BenchmarkRevocationSync measures what a token/redisrevoke List costs
// when it starts, or resynchronizes after a reconnection, against a list
// of revoked IDs already in a local Redis (redis-server started by the
// benchmark): one operation is a full synchronization, from New to the
// mirror confirmed current (Sync). It reports ns/id, the time per revoked
// ID; cpu-ns/id, the CPU time this process spent per revoked ID (not the
// Redis server's, and without the time spent waiting for a CPU that other
// processes hold); and bytes/id, the heap the List holds afterwards per
// revoked ID (runtime.MemStats after a collection, before New and after
// Sync).
//
// The list holds 100,000 IDs, each with an expiry; set
// LATCH_BENCH_REVOCATIONS (for example to 1000000) for another size.
// Filling Redis is done once, outside the measurement.
func BenchmarkRevocationSync(b *testing.B) {
	n := 100_000
	if s := os.Getenv("LATCH_BENCH_REVOCATIONS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("LATCH_BENCH_REVOCATIONS=%q: not a positive count", s)
		}
		n = v
	}
	b.Run("latch", func(b *testing.B) {
		r := interop.StartRedis(b)
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
		defer rdb.Close()
		ctx := context.Background()
		fillRevocations(b, ctx, rdb, n)

		var held uint64
		var cpu time.Duration
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			before := heapInUse()
			cpu0, _ := processCPU()
			b.StartTimer()
			l, err := redisrevoke.New(redisrevoke.Config{Client: rdb})
			if err != nil {
				b.Fatal(err)
			}
			sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			err = l.Sync(sctx)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu1, _ := processCPU()
			cpu += cpu1 - cpu0
			held = heapInUse() - before
			runtime.KeepAlive(l)
			l.Close()
			b.StartTimer()
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/id")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/id")
		b.ReportMetric(float64(held)/float64(n), "bytes/id")
	})
}

// fillRevocations writes n revoked IDs, expiring in a day, in the layout
// of token/redisrevoke (see its package doc: 1024 buckets of 20-byte
// records after a 4-byte header).
func fillRevocations(b *testing.B, ctx context.Context, rdb *redis.Client, n int) {
	b.Helper()
	exp := uint32(time.Now().Add(24 * time.Hour).Unix())
	blobs := make([][]byte, 1024)
	for i := range blobs {
		blobs[i] = make([]byte, 4, 4+20*(n/1024+16))
	}
	var rec [20]byte
	binary.BigEndian.PutUint32(rec[16:], exp)
	for range n {
		rand.Read(rec[:16])
		i := int(binary.BigEndian.Uint16(rec[:2])) % 1024
		blobs[i] = append(blobs[i], rec[:]...)
	}
	pipe := rdb.Pipeline()
	for i, blob := range blobs {
		binary.BigEndian.PutUint32(blob, uint32((len(blob)-4)/20))
		pipe.Set(ctx, "{"+redisrevoke.DefaultPrefix+"}:ids:"+strconv.Itoa(i), blob, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
