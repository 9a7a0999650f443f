package redisrevoke_test

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
)

// Every API server of the fleet runs one List on the Redis that Sentinel
// manages; a revocation counts once a replica holds it, so it survives the
// loss of the primary.
//
// It needs a Redis server, so it has no Output: go test compiles it (and
// go vet checks it) but does not run it.
func Example_sentinel() {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    "latch",
		SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
	})
	defer rdb.Close()
	list, err := redisrevoke.New(redisrevoke.Config{Client: rdb, Replicas: 1})
	if err != nil {
		panic(err)
	}
	defer list.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := list.Sync(ctx); err != nil {
		panic(err) // Redis unreachable: the server cannot answer yet
	}
	verifier := &token.Verifier{Config: token.Config{Keys: token.NewKeyring(), Issuer: "https://platform.example", Audience: "api", Revocations: list}}
	_ = verifier
}

// The same on a Redis Cluster: the list lives in one slot, on one primary
// and its replica.
//
// It needs a Redis server, so it has no Output: go test compiles it (and
// go vet checks it) but does not run it.
func Example_cluster() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
	})
	defer rdb.Close()
	list, err := redisrevoke.New(redisrevoke.Config{Client: rdb, Replicas: 1})
	if err != nil {
		panic(err)
	}
	defer list.Close()
}
