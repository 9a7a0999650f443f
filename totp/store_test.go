package totp_test

import (
	"testing"

	"github.com/latchsec/latch/totp"
	"github.com/latchsec/latch/totp/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, &totp.MemoryStore{})
}
