package mochi

import (
	"context"
	"errors"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/mqttauth"
)

// DefaultRecheckInterval is how often, by default, live sessions'
// credentials are checked against the revocation list.
const DefaultRecheckInterval = time.Minute

// Options configure a [Hook]; pass them to mqtt.Server.AddHook.
type Options struct {
	// Guard authenticates CONNECTs and holds the ACL (required).
	Guard *mqttauth.Guard
	// Server is the server the hook is added to (required): the hook
	// answers refused CONNECTs and disconnects revoked sessions through
	// it.
	Server *mqtt.Server
	// RecheckInterval bounds how long a session outlives the revocation
	// or expiry of its credential: every RecheckInterval, each session's
	// credential is checked again and sessions whose credential no longer
	// holds are disconnected. Zero means DefaultRecheckInterval; negative
	// turns the schedule off (call Hook.Recheck yourself).
	RecheckInterval time.Duration
}

// Hook is the mochi-mqtt hook: add it with
//
//	server.AddHook(new(mochi.Hook), &mochi.Options{Guard: guard, Server: server})
//
// and add no other hook that provides OnConnectAuthenticate or OnACLCheck
// (see the package documentation).
type Hook struct {
	mqtt.HookBase
	guard    *mqttauth.Guard
	server   *mqtt.Server
	interval time.Duration

	// sessions holds the principal of each connected client, by client
	// id. A sync.Map, which locks no more than the entry it touches: every
	// ACL check reads it, and a global lock here made a thousand clients
	// connecting at once queue behind each other.
	sessions sync.Map // string → *session

	// recent holds, in a slot chosen by the client's address, the session
	// a check last found for a client: a delivery then finds its session
	// with one memory access instead of a walk through sessions, which with
	// a thousand subscribers misses the CPU's caches at every step. A slot
	// counts only for the very client of its session, and only while the
	// session has not ended (it has when it leaves sessions).
	recent [recentSlots]atomic.Pointer[session]
	seed   maphash.Seed

	// lastRead is the read topic (or filter) last checked, and interned
	// the topics checked lately, by name: a session remembers the last
	// topic it was allowed to read as a pointer to its readTopic, so that
	// a delivery compares two pointers instead of two strings that lie in
	// memory nobody has touched since the previous message. mochi passes
	// the same topic to each subscriber of a message, so lastRead answers
	// all but the first delivery of a message by comparing a string with
	// itself. interned is bounded (see maxInternedSize); when it would
	// grow past its bound it starts again empty (a session whose topic
	// was dropped checks the ACL once more, that is all).
	lastRead     atomic.Pointer[readTopic]
	interned     sync.Map // string → *readTopic
	internedSize atomic.Int64

	// hooks is the server's hook list, checked for other auth hooks at
	// Init, at OnStarted and whenever its length changes (checked is the
	// length last found clean). conflict holds the error once one is found.
	hooks    *mqtt.Hooks
	checked  atomic.Int64
	check    sync.Mutex
	conflict atomic.Pointer[error]

	schedule sync.Mutex // guards stop and done
	stop     chan struct{}
	done     chan struct{}
}

// recentSlots is the size of Hook.recent: four times the slots of the
// thousand clients a broker may deliver one message to, so that few of
// them share a slot (those that do take turns at it, and the one that
// lost it finds its session in Hook.sessions).
const recentSlots = 1 << 14

// Hook.interned holds topics of at most maxInternedTopic bytes (longer
// ones are checked as often as they come), and at most maxInternedSize
// bytes of them, counting internedOverhead bytes for each: a client that
// sends SUBSCRIBEs with thousands of long filters holds no more than that.
const (
	maxInternedTopic = 1 << 10
	maxInternedSize  = 1 << 20
	internedOverhead = 128
)

// readTopic is a topic or filter a read check was asked about, interned
// by Hook.readTopic: two checks of the same name get the same pointer
// while it stays in Hook.interned.
type readTopic struct{ name string }

type session struct {
	cl    *mqtt.Client
	p     *mqttauth.Principal
	ended atomic.Bool // set before the session leaves Hook.sessions
	// read is the last topic (or filter) a read check allowed, so that
	// the same check again costs a comparison: mochi checks every delivery
	// of a message, and a client is usually sent many messages of one
	// topic. The principal never changes, so neither does the answer.
	read atomic.Pointer[readTopic]
}

// canRead decides a read check (a SUBSCRIBE filter or a delivery) as
// Principal.CheckSubscribe does. A session's read answers only for the
// readTopic it points to, whose name is the topic it was allowed for.
func (s *session) canRead(t *readTopic) bool {
	if s.read.Load() == t {
		return true
	}
	if s.p.CheckSubscribe(t.name) != nil {
		return false
	}
	s.read.Store(t)
	return true
}

// readTopic returns the interned readTopic named topic.
func (h *Hook) readTopic(topic string) *readTopic {
	if t := h.lastRead.Load(); t != nil && t.name == topic {
		return t
	}
	var t *readTopic
	if v, ok := h.interned.Load(topic); ok {
		t = v.(*readTopic)
	} else {
		t = &readTopic{name: strings.Clone(topic)}
		if len(topic) <= maxInternedTopic {
			if h.internedSize.Add(int64(len(topic))+internedOverhead) > maxInternedSize {
				h.interned.Clear()
				h.internedSize.Store(int64(len(topic)) + internedOverhead)
			}
			v, _ := h.interned.LoadOrStore(t.name, t)
			t = v.(*readTopic)
		}
	}
	h.lastRead.Store(t)
	return t
}

// ID implements mqtt.Hook.
func (h *Hook) ID() string { return "latch-mqttauth" }

// Provides implements mqtt.Hook.
func (h *Hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPacketRead,
		mqtt.OnPublish, mqtt.OnSubscribed, mqtt.OnDisconnect, mqtt.OnClientExpired, mqtt.OnStarted:
		return true
	}
	return false
}

// Init implements mqtt.Hook. config must be *Options (or the error is
// under [ErrOptions]). It returns an error under [ErrOtherAuthHook] if the
// server already has a hook that provides OnConnectAuthenticate or
// OnACLCheck, and [ErrUnsupportedServer] if it cannot tell.
func (h *Hook) Init(config any) error {
	o, ok := config.(*Options)
	switch {
	case !ok || o == nil:
		return reason.Newf(ErrOptions, nil, "config is not a *mochi.Options")
	case o.Guard == nil || o.Guard.Tokens == nil:
		return reason.Newf(ErrOptions, nil, "Options.Guard with Tokens is required")
	case o.Server == nil:
		return reason.Newf(ErrOptions, nil, "Options.Server is required")
	}
	hooks, err := serverHooks(o.Server)
	if err != nil {
		return err
	}
	// mochi calls Init before it adds the hook: the list holds the others.
	if err := h.otherAuthHook(hooks.GetAll()); err != nil {
		return err
	}
	h.hooks = hooks
	h.seed = maphash.MakeSeed()
	h.checked.Store(-1)
	h.guard, h.server, h.interval = o.Guard, o.Server, o.RecheckInterval
	if h.interval == 0 {
		h.interval = DefaultRecheckInterval
	}
	return nil
}

// OnStarted looks for auth hooks added after this one (see [Hook.Err])
// and starts the recheck schedule.
func (h *Hook) OnStarted() {
	_, _ = h.checkHooks(true)
	h.schedule.Lock()
	defer h.schedule.Unlock()
	if h.interval < 0 || h.stop != nil {
		return
	}
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(h.done)
		t := time.NewTicker(h.interval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.Recheck(context.Background())
			}
		}
	}()
}

// Stop implements mqtt.Hook: it ends the recheck schedule.
func (h *Hook) Stop() error {
	h.schedule.Lock()
	defer h.schedule.Unlock()
	if h.stop != nil {
		close(h.stop)
		<-h.done
		h.stop = nil
	}
	return nil
}

// OnConnect authenticates the CONNECT and checks its Will topic. A refused
// client gets a CONNACK "bad user name or password" (0x86; 0x05 in MQTT
// 3.1.1), "not authorized" for a Will topic it may not publish to (0x87;
// 0x05), or "server unavailable" when the guard cannot decide or another
// auth hook has been added (0x88; 0x03), and the connection ends here,
// whatever other hooks say.
func (h *Hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	c := pk.Connect
	if _, err := h.checkHooks(false); err != nil {
		_ = h.server.SendConnack(cl, packets.ErrServerUnavailable, false, nil)
		return packets.ErrServerUnavailable
	}
	p, err := h.guard.Authenticate(context.Background(), c.ClientIdentifier, string(c.Username), string(c.Password))
	code := packets.ErrBadUsernameOrPassword
	if err == nil && c.WillFlag {
		if err = p.CheckPublish(c.WillTopic); err != nil && pk.ProtocolVersion >= 5 {
			code = packets.ErrNotAuthorized
		}
	} else if err != nil && !errors.Is(err, mqttauth.ErrAuthentication) {
		code = packets.ErrServerUnavailable
	}
	if err != nil {
		// Only a well-formed key is logged as the user name (a device
		// that puts its secret there must not see it logged), and only a
		// well-formed client id (a secret is too long to be one). The
		// error holds no secret.
		username := string(c.Username)
		if !mqttauth.ValidKey(username) {
			username = "(not a key)"
		}
		h.Log.Info("connect refused", "client", printable(c.ClientIdentifier), "username", username, "error", err)
		_ = h.server.SendConnack(cl, code, false, nil)
		return code
	}
	if old, ok := h.sessions.Swap(c.ClientIdentifier, &session{cl: cl, p: p}); ok {
		old.(*session).ended.Store(true)
	}
	if h.Err() != nil {
		// An auth hook was found while this client was being checked,
		// after the sweep that ended the others' sessions.
		h.forget(cl)
		_ = h.server.SendConnack(cl, packets.ErrServerUnavailable, false, nil)
		return packets.ErrServerUnavailable
	}
	return nil
}

// printable returns s for a log line, or a placeholder when it is not an
// identity (it may hold control characters).
func printable(s string) string {
	if mqttauth.ValidIdentity(s) {
		return s
	}
	return "(invalid)"
}

// session returns cl's session, or nil if cl has none (it was refused, or
// its session has ended, or another client has taken its client id over).
func (h *Hook) session(cl *mqtt.Client) *session {
	slot := &h.recent[maphash.Comparable(h.seed, cl)%recentSlots]
	if s := slot.Load(); s != nil && s.cl == cl && !s.ended.Load() {
		return s
	}
	v, ok := h.sessions.Load(cl.ID)
	if !ok {
		return nil
	}
	s := v.(*session)
	if s.cl != cl || s.ended.Load() {
		return nil
	}
	slot.Store(s)
	return s
}

func (h *Hook) principal(cl *mqtt.Client) *mqttauth.Principal {
	if s := h.session(cl); s != nil {
		return s.p
	}
	return nil
}

// OnConnectAuthenticate implements mqtt.Hook: true for the clients
// OnConnect authenticated.
func (h *Hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	return h.principal(cl) != nil
}

// OnACLCheck implements mqtt.Hook. mochi calls it for each PUBLISH (write),
// each SUBSCRIBE filter as sent, share prefix included, and each delivery
// of a message to a subscriber (both read). A read is decided by
// Principal.CheckSubscribe, a topic name being a filter that matches
// itself; the session remembers the last topic it allowed, so that a
// client sent many messages of one topic pays for the ACL once.
func (h *Hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	s := h.session(cl)
	if s == nil {
		return false
	}
	if write {
		return s.p.CheckPublish(topic) == nil
	}
	return s.canRead(h.readTopic(topic))
}

// OnPacketRead resolves an inbound topic alias before mochi checks the ACL:
// mochi checks a PUBLISH that carries only an alias as the topic "", which
// would refuse every alias-only publish. The alias stands for a topic that
// an earlier PUBLISH of the same connection set, after passing the ACL.
//
// It also empties the user name and password of a second CONNECT on a
// connection this hook authenticated: mochi refuses that CONNECT as a
// protocol violation and logs the whole packet, which would write the
// secret to the server's log (base64 in JSON, bytes in text).
func (h *Hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type == packets.Connect && h.session(cl) != nil {
		pk.Connect.Username, pk.Connect.Password = nil, nil
		pk.Connect.UsernameFlag, pk.Connect.PasswordFlag = false, false
	}
	if pk.FixedHeader.Type == packets.Publish && pk.TopicName == "" &&
		pk.Properties.TopicAliasFlag && pk.Properties.TopicAlias > 0 && cl.State.TopicAliases.Inbound != nil {
		// Set with an empty topic returns the topic of a known alias
		// without changing it, or "" (which the ACL refuses).
		pk.TopicName = cl.State.TopicAliases.Inbound.Set(pk.Properties.TopicAlias, "")
	}
	return pk, nil
}

// OnPublish drops a PUBLISH the ACL refuses even if another hook's
// OnACLCheck allowed it: mochi lets any one hook allow.
func (h *Hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil // the server's own publishes
	}
	if p := h.principal(cl); p == nil || p.CheckPublish(pk.TopicName) != nil {
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// OnSubscribed takes back a subscription the ACL refuses even if another
// hook's OnACLCheck allowed it: it removes the subscription and turns its
// SUBACK reason code into "not authorized" (0x87; 0x80 in MQTT 3.1.1)
// before mochi sends the SUBACK or any retained message.
func (h *Hook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, reasonCodes []byte) {
	p := h.principal(cl)
	for i, sub := range pk.Filters {
		if i >= len(reasonCodes) || reasonCodes[i] >= packets.ErrUnspecifiedError.Code {
			continue
		}
		if p != nil && p.CheckSubscribe(sub.Filter) == nil {
			continue
		}
		h.Log.Error("subscription allowed by another hook taken back", "client", cl.ID, "filter", sub.Filter)
		h.server.Topics.Unsubscribe(sub.Filter, cl.ID)
		cl.State.Subscriptions.Delete(sub.Filter)
		reasonCodes[i] = packets.ErrNotAuthorized.Code
		if cl.Properties.ProtocolVersion < 5 {
			reasonCodes[i] = packets.ErrUnspecifiedError.Code // 0x80, failure
		}
	}
}

// OnDisconnect forgets the session when it ends with the connection.
func (h *Hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	if expire {
		h.forget(cl)
	}
}

// OnClientExpired forgets an expired persistent session.
func (h *Hook) OnClientExpired(cl *mqtt.Client) { h.forget(cl) }

func (h *Hook) forget(cl *mqtt.Client) {
	if v, ok := h.sessions.Load(cl.ID); ok && v.(*session).cl == cl {
		// Only this client's entry: a newer session under the same client
		// id stays. Ended first, so that no slot of recent answers for it.
		v.(*session).ended.Store(true)
		h.sessions.CompareAndDelete(cl.ID, v)
	}
}

// Recheck checks every session's credential again (see
// mqttauth.Guard.Recheck) and disconnects the clients whose credential
// has been revoked or has expired, with reason "not authorized" (0x87).
// Their sessions are forgotten, so nothing more is delivered to them.
// When the revocation list cannot answer, sessions are kept and the error
// is logged: a new CONNECT fails closed in that state, a live session is
// not cut for it. It also looks for an auth hook added to the server since
// (see [Hook.Err]), and on finding one ends every session. It returns the
// number of sessions ended.
func (h *Hook) Recheck(ctx context.Context) int {
	if n, err := h.checkHooks(false); err != nil {
		return n // every session has ended
	}
	var all []*session
	h.sessions.Range(func(_, v any) bool {
		all = append(all, v.(*session))
		return true
	})
	n := 0
	for _, s := range all {
		err := h.guard.Recheck(ctx, s.p)
		if err == nil {
			continue
		}
		if !errors.Is(err, mqttauth.ErrAuthentication) {
			h.Log.Warn("credential recheck failed", "client", s.p.ClientID, "error", err)
			continue
		}
		h.Log.Info("session ended: credential no longer valid", "client", s.p.ClientID, "key", s.p.Key, "error", err)
		h.forget(s.cl)
		if !s.cl.Closed() {
			_ = h.server.DisconnectClient(s.cl, packets.ErrNotAuthorized)
		}
		n++
	}
	return n
}
