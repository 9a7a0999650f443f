package mochi

import (
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Shutdown closes server as mqtt.Server.Close does (listeners, then every
// client with reason "server shutting down", then the hooks), without the
// deadlock of mochi-mqtt v2.7.9's Close: it lists each listener's clients
// with a read lock taken twice (Clients.GetByListener), so a client
// connecting or disconnecting at that moment hangs the server for good
// (mochi-mqtt/server issue 488). Shutdown ends the clients itself, under
// one read lock, before Close runs. Use it in place of Close, once, as
// Close.
func Shutdown(server *mqtt.Server) error {
	// A listener's closer runs once; Close's own then finds nothing to do.
	server.Listeners.CloseAll(func(listener string) {
		for _, cl := range server.Clients.GetAll() {
			if cl.Net.Listener == listener && !cl.Closed() {
				_ = server.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	})
	return server.Close()
}
