package redisstore_test

import (
	"context"
	"os"

	"github.com/latchsec/latch/totp"
	"github.com/latchsec/latch/totp/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every server of the fleet builds its Authenticator on the same Redis and
// the same encryption keys; a code accepted by one is refused by all.
//
// It needs a Redis server, so it has no Output: go test compiles it (and
// go vet checks it) but does not run it.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379"})
	defer rdb.Close()
	a, err := totp.New(totp.Config{
		Issuer:         "Acme IoT",
		Store:          redisstore.New(rdb, ""),
		EncryptionKeys: []totp.EncryptionKey{{ID: "2026-01", Key: []byte(os.Getenv("TOTP_ENCRYPTION_KEY"))}},
	})
	if err != nil {
		panic(err)
	}
	_ = a.Verify(context.Background(), "user-42", "123456")
}

// With a primary managed by Sentinel, a code counts as accepted only once
// a replica holds it, so a failover cannot let it through again.
//
// It needs a Redis server, so it has no Output: go test compiles it (and
// go vet checks it) but does not run it.
func Example_sentinel() {
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    "latch",
		SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
	})
	defer rdb.Close()
	store := redisstore.New(rdb, "")
	store.Replicas = 1
	a, err := totp.New(totp.Config{
		Issuer:         "Acme IoT",
		Store:          store,
		EncryptionKeys: []totp.EncryptionKey{{ID: "2026-01", Key: []byte(os.Getenv("TOTP_ENCRYPTION_KEY"))}},
	})
	if err != nil {
		panic(err)
	}
	_ = a
}
