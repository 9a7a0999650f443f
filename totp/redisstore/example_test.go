package redisstore_test

import (
	"context"
	"os"

	"github.com/latchsec/latch/totp"
	"github.com/latchsec/latch/totp/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every server of the fleet builds its Authenticator on the same Redis and
// the same sealing keys; a code accepted by one is refused by all.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379"})
	defer rdb.Close()
	a, err := totp.New(totp.Config{
		Issuer:      "Acme IoT",
		Store:       redisstore.New(rdb, ""),
		SealingKeys: []totp.SealingKey{{ID: "2026-01", Key: []byte(os.Getenv("TOTP_SEALING_KEY"))}},
	})
	if err != nil {
		panic(err)
	}
	_ = a.Verify(context.Background(), "user-42", "123456")
}
