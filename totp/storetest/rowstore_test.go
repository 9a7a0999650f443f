package storetest_test

import (
	"testing"

	"github.com/latchsec/latch/totp/storetest"
)

// The Example's Store keeps the contract.
func TestRowStore(t *testing.T) {
	storetest.Run(t, newRowStore())
}
