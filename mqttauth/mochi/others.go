package mochi

import (
	"reflect"
	"strconv"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/latchsec/latch/internal/reason"
)

// serverHooks returns the server's hook list. mochi keeps it in the
// unexported field Server.hooks and gives no other way to it; the field is
// set once in mqtt.New and never changes. It is read with reflect, after
// checking that it is a non-nil *mqtt.Hooks, whose exported methods are
// then all that is used.
func serverHooks(s *mqtt.Server) (*mqtt.Hooks, error) {
	f := reflect.ValueOf(s).Elem().FieldByName("hooks")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*mqtt.Hooks]() || f.IsNil() {
		return nil, reason.New(ErrUnsupportedServer, nil)
	}
	return (*mqtt.Hooks)(f.UnsafePointer()), nil
}

// otherAuthHook returns ErrOtherAuthHook, naming the hook, if a hook of
// hooks other than h provides OnConnectAuthenticate or OnACLCheck.
func (h *Hook) otherAuthHook(hooks []mqtt.Hook) error {
	for _, o := range hooks {
		if o == mqtt.Hook(h) {
			continue
		}
		if o.Provides(mqtt.OnConnectAuthenticate) || o.Provides(mqtt.OnACLCheck) {
			return reason.Newf(ErrOtherAuthHook, nil, strconv.Quote(o.ID()))
		}
	}
	return nil
}

// Err returns ErrOtherAuthHook if a hook that authenticates clients or
// checks ACLs was added to the server after this hook: from then on the
// hook refuses every CONNECT (CONNACK "server unavailable") and has ended
// every session. Call it after mqtt.Server.Serve to stop a server started
// that way; a hook added before this one already made AddHook fail.
func (h *Hook) Err() error {
	if err := h.conflict.Load(); err != nil {
		return *err
	}
	return nil
}

// checkHooks looks at the server's hooks again if their number changed
// since the last look (or always, if force), and returns Err. A CONNECT
// costs two atomic loads for it. When it finds an auth hook it ends every
// session and returns how many.
func (h *Hook) checkHooks(force bool) (int, error) {
	if err := h.Err(); err != nil {
		return 0, err
	}
	n := h.hooks.Len()
	if !force && n == h.checked.Load() {
		return 0, nil
	}
	h.check.Lock()
	defer h.check.Unlock()
	if err := h.Err(); err != nil {
		return 0, err
	}
	// Len is read before the list: a hook added in between makes the next
	// look see a different number.
	err := h.otherAuthHook(h.hooks.GetAll())
	if err == nil {
		h.checked.Store(n)
		return 0, nil
	}
	h.conflict.Store(&err)
	h.Log.Error("another auth hook was added to the server: refusing every client from now on", "error", err)
	ended := 0
	h.sessions.Range(func(_, v any) bool {
		s := v.(*session)
		h.forget(s.cl)
		if !s.cl.Closed() {
			_ = h.server.DisconnectClient(s.cl, packets.ErrImplementationSpecificError)
		}
		ended++
		return true
	})
	return ended, err
}
