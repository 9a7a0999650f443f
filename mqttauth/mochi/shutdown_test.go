package mochi_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/mqttauth/mochi"
)

// Shutdown ends every session and the server, while clients are still
// connecting and disconnecting: the traffic that makes mochi v2.7.9's own
// Close hang now and then (mochi-mqtt/server#488). If Shutdown hung, the
// test binary's timeout would fail it.
func TestShutdown(t *testing.T) {
	for round := range 5 {
		b := startBroker(t)
		const n = 40
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = b.mustConnect(t, b.issue(t, "app-1", fmt.Sprintf("dev-%d-%d", round, i)))
		}
		var wg sync.WaitGroup
		// Half leave on their own while the server shuts down.
		for _, c := range clients[:n/2] {
			wg.Go(func() { c.Disconnect(0) })
		}
		b.shut = true
		require.NoError(t, mochi.Shutdown(b.srv))
		wg.Wait()
		for _, c := range clients[n/2:] {
			c.waitLost(t)
		}
		require.Zero(t, b.srv.Clients.Len())
	}
}
