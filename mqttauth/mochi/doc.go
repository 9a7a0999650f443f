// Package mochi puts the mqttauth Guard into the embedded Go broker
// mochi-mqtt (github.com/mochi-mqtt/server/v2): every CONNECT is
// authenticated with an application key and secret, every PUBLISH,
// SUBSCRIBE and delivery is decided by the mqttauth ACL. Add a [Hook] to the
// server with [Options] naming the guard and the server:
//
//	acl, err := mqttauth.Compile(aclConfig)
//	guard := &mqttauth.Guard{Tokens: tokenVerifier, ACL: acl}
//
//	server := mqtt.New(&mqtt.Options{InlineClient: true})
//	err = server.AddHook(new(mochi.Hook), &mochi.Options{Guard: guard, Server: server})
//	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
//	err = server.AddListener(listeners.NewTCP(listeners.Config{ID: "tls", Address: ":8883", TLSConfig: tlsConfig}))
//	err = server.Serve()
//
// Stop it with [Shutdown](server) rather than server.Close, whose mochi
// v2.7.9 version can hang when a client comes or goes at that moment.
//
// Listen only with TLS: the password is a bearer secret. It lives in its own
// package so that importing mqttauth never links the broker.
//
// # What the hook does about mochi's semantics
//
// mochi asks hooks in turn and lets the first one that allows win; no hook
// can veto. So the hook refuses to run beside another hook that provides
// OnConnectAuthenticate or OnACLCheck (mochi's auth.AllowHook or auth.Hook,
// for instance, or a second Latch hook):
//
//   - added before it: AddHook fails with [ErrOtherAuthHook], naming the
//     other hook;
//   - added after it, before Serve or while serving: the hook notices at
//     Serve (OnStarted), at the next CONNECT (mochi's hook count changed) or
//     at the next recheck, whichever comes first. From then on it refuses
//     every CONNECT with "server unavailable" (0x88; 0x03 in MQTT 3.1.1),
//     ends every session, logs why at error level, and [Hook.Err] returns
//     the reason.
//
// So check both AddHook's error and, after Serve, Err:
//
//	hook := new(mochi.Hook)
//	err = server.AddHook(hook, &mochi.Options{Guard: guard, Server: server})
//	...
//	err = server.Serve()
//	err = hook.Err() // an auth hook added after this one
//
// mochi gives no access to its hook list; the hook reads it from the
// server's unexported field with reflect, and Init fails with
// [ErrUnsupportedServer] if a mochi-mqtt version keeps it elsewhere.
//
// Behind that check, the hook still does not let any other hook widen what
// the guard allows (a hook may answer Provides differently from one call
// to the next): it decides CONNECT in OnConnect, where a refusal ends the
// connection whatever other hooks say; it drops, in OnPublish, a PUBLISH
// that another hook's OnACLCheck let through; and in OnSubscribed it takes
// back a subscription another hook allowed and rewrites its SUBACK code to
// "not authorized" before mochi sends it. Such an event is logged at error
// level. Hooks that rewrite packets (OnPacketRead, OnPublish) after the
// ACL check are part of the server, trusted like the rest of its code.
//
// Beyond that the hook covers what mochi leaves open:
//
//   - The client id must be one the ACL binds to the credential
//     (mqttauth.ACLConfig.ClientIDs), so a device cannot connect with
//     another's client id and take over its session: the CONNACK refusal
//     comes before mochi disconnects the existing session. An empty client
//     id (for which mochi would assign one) is refused.
//   - mochi never checks the Will against the ACL, neither at CONNECT nor
//     when sending it: the hook refuses a CONNECT whose Will topic the
//     credential may not publish to (CONNACK 0x87, 0x05 in MQTT 3.1.1).
//   - mochi checks a PUBLISH before resolving its topic alias, so an
//     alias-only PUBLISH would be checked as the topic "": the hook resolves
//     the alias first (OnPacketRead), and the ACL sees the real topic.
//   - mochi passes a subscription filter with its "$share/group/" prefix (in
//     any case); the ACL strips it and checks the filter.
//   - mochi calls the ACL on every delivery to every subscriber. The hook
//     finds a client's session through a slot chosen by the client's
//     address (valid only for that client, and only until the session
//     ends or another connection takes its client id), and each
//     session remembers the last topic a read check allowed it (the
//     principal, and so the answer, never changes during a session), so a
//     client sent many messages of one topic pays for the ACL once and
//     then for a comparison; any other topic is decided by the ACL, and a
//     session that ends takes its memory with it. The check allocates
//     nothing, except a string header when it remembers a new topic.
//   - A credential revoked or expired after CONNECT: every
//     Options.RecheckInterval (default one minute) each session's credential
//     is checked against the revocation list again (from memory, no
//     decryption) and sessions that fail are disconnected with reason 0x87.
//     Hook.Recheck does it on demand.
//
// Refusals, as clients see them: a bad key, secret or client id gets CONNACK
// 0x86 "bad user name or password" (MQTT 5) or 0x05 "not authorized" (3.1.1,
// mochi's mapping); a guard that cannot decide (revocation list
// unavailable) gets 0x88 "server unavailable" (0x03). A denied subscription
// gets SUBACK 0x87 (0x80 in 3.1.1). A denied PUBLISH at QoS 0 is dropped; at
// QoS 1 and 2 MQTT 5 clients get PUBACK/PUBREC 0x87 and 3.1.1 clients are
// disconnected, as mochi does. mochi itself drops a PUBLISH to $SYS before
// any hook, without an acknowledgement.
//
// Logs go to the server's slog logger: client id and key (public), never a
// secret. mochi logs a packet it refuses whole; a second CONNECT on a
// connection, the one such packet that carries credentials, has its user
// name and password emptied first.
//
// Tested with mochi-mqtt v2.7.9, against paho.mqtt.golang, Debian's
// mosquitto_pub and mosquitto_sub 2.0.11 (MQTT 5 and 3.1.1) and npm mqtt 5.16.
package mochi
