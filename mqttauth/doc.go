// Package mqttauth authenticates and authorizes the devices and services that
// connect to the platform's MQTT broker. A device connects with an
// application key as its user name and the key's application secret as its
// password; a [Guard] admits the connection ([Guard.Authenticate] checks
// the CONNECT) and returns a [Principal], whose [Principal.CheckPublish]
// and [Principal.CheckSubscribe] decide every publish and subscription from
// a topic ACL. Credentials come from a [Provisioner] ([Provisioner.Issue]),
// ACLs from [Compile]. Put it in a broker with the sub-package
// mqttauth/mochi (the embedded Go broker mochi-mqtt) or, for a clustered
// broker (EMQX 5, VerneMQ), with the [Webhook]. The Provisioner and the
// Guard hold a token.Issuer and a token.Verifier, which make and check the
// secrets.
//
//	provisioner := &mqttauth.Provisioner{Tokens: tokenIssuer}
//	cred, err := provisioner.Issue(ctx, mqttauth.KeyRequest{App: "app-1", Device: "thermostat-7"})
//	// the device gets cred.Key and cred.Secret; the platform keeps cred.Key and cred.SecretID
//
//	acl, err := mqttauth.Compile(mqttauth.ACLConfig{
//		Rules: []mqttauth.Rule{
//			{Topic: "apps/{app}/devices/{device}/state", Access: mqttauth.Publish},
//			{Topic: "apps/{app}/devices/{device}/command/+", Access: mqttauth.Subscribe},
//		},
//		ClientIDs: []string{"{app}:{device}"},
//	})
//	guard := &mqttauth.Guard{Tokens: tokenVerifier, ACL: acl}
//	p, err := guard.Authenticate(ctx, clientID, username, password)
//	err = p.CheckPublish(topic) // nil, or an error under ErrDenied
//
// # Credentials
//
// An application key ("mk_" and 128 random bits in base32, see [ValidKey])
// is public: it names a credential in logs and in the platform's records.
// Its secret is a token of package token, so the guard needs no
// database: the token's subject is "mqtt:" KEY, or "mqtt:" KEY ":" DEVICE
// for a device's key; its app claim names the one application; its scopes
// are [ConnectScope] and any [KeyRequest.Permissions]. A secret therefore
// works only with its own key, for its own application and device.
// [Provisioner.Issue] with an existing Key rotates the secret; secrets are
// revoked one by one through the token revocation list
// (token.Revocations.RevokeID with Credential.SecretID) or all of a key's at
// once with [Provisioner.RevokeKey].
//
// # The ACL
//
// A [Rule] is an MQTT topic filter with placeholders in its levels: {app},
// {key}, {device} and {clientid}, filled in from the principal at CONNECT. A
// rule allows publishing (to the topics it matches), subscribing, or both;
// an [ACLConfig] is a list of rules, and whatever no rule allows is denied.
// Subscriptions are decided by subsumption, not by string matching: a
// filter is allowed only if every topic it can match is matched by a rule
// (the union of the rules counts: "a" and "a/+/#" together allow "a/#").
// A rule "a/+" allows "a/+" and "a/b" but not "a/#"; a rule "a/#" allows
// "a"; a rule "a/b" allows neither "a/b/c" nor "ab". Checks allocate nothing;
// their cost is bounded by the 64 levels a topic may have times the 64
// rules an ACL may have.
//
// What the package refuses, each with its test:
//
//   - client ids, user names and device ids with "+", "#", "/", NUL, other
//     control characters, invalid UTF-8 or a leading "$" (see
//     [ValidIdentity]): they would change what a template matches
//     (mosquitto's CVE-2017-7650);
//   - a client id the ACL does not bind to the credential
//     ([ACLConfig.ClientIDs]; by default the key itself), so that one device
//     cannot connect as another and take over its session;
//   - publishing to $SYS, and matching any "$" topic with a rule that starts
//     with a wildcard (MQTT-4.7.2-1);
//   - subscriptions widened by a share prefix: "$share/group/" and
//     "$queue/" are stripped (in any case, as brokers read them) and the
//     filter is checked;
//   - topic names and filters that are not valid MQTT: empty, over
//     65,535 bytes or 64 levels, invalid UTF-8, NUL
//     or control characters, misplaced wildcards;
//   - a Will whose topic the principal may not publish to: brokers must
//     check it with CheckPublish at CONNECT (mqttauth/mochi does).
//
// # Threat model and the caller's duties
//
//   - A secret is a bearer credential. Carry MQTT only over TLS, never log
//     passwords, and show a secret once. Errors and the String forms of
//     [Credential] and [Principal] never contain one.
//   - The token keyring signs for MQTT secrets as it does for API tokens:
//     give MQTT secrets an audience of their own (such as "mqtt") in both the
//     Provisioner's and the Guard's token configuration, so that neither kind
//     of token stands in for the other. A token without [ConnectScope] or
//     without a key subject is refused anyway.
//   - Tell clients only "bad user name or password" (or "not authorized");
//     the reason, for the server's logs, is under the error
//     ([ErrClientID], [ErrKeyMismatch], token.ErrRevoked, ...).
//   - A principal is fixed at CONNECT. Revocation reaches a live session
//     only when the broker rechecks it ([Guard.Recheck]); mqttauth/mochi
//     does so on a schedule and the Webhook at every request.
//   - Two placeholders in one level ("{app}{device}") must be separated by
//     a character the first value cannot contain, or two principals could
//     expand to the same topic. Application ids cannot contain ":", so
//     "{app}:{device}" is safe.
//   - A [Webhook] answers only its broker: [NewWebhook] refuses to make one
//     without a [BrokerAuth] credential (a shared secret in a header, HTTP
//     Basic, or a TLS client certificate, each required when set). Keep
//     the credential as secret as the token keys, serve the webhook over
//     https, and configure the broker to send it (see [Webhook] for EMQX 5
//     and VerneMQ). Without it, anyone who reaches the webhook can end a
//     device's session or learn which clients are connected.
//   - Brokers that combine authorizers must let this one decide: in mochi,
//     no other auth or ACL hook (the hook in mqttauth/mochi refuses to run
//     beside one); in EMQX, make it the only authenticator and
//     authorizer with no_match = deny; in VerneMQ, no other auth plugin and
//     allow_anonymous off.
//
// # Broker compatibility
//
// mochi-mqtt v2: the hook in mqttauth/mochi, tested with paho.mqtt.golang,
// mosquitto_pub/mosquitto_sub 2.0 (MQTT 5 and 3.1.1) and npm mqtt 5.
// EMQX 5 (HTTP authentication and authorization) and VerneMQ
// (vmq_webhooks): the [Webhook]; see its documentation for the request
// templates and hooks to configure. The secret format is that of package
// token, so any service holding the keyring can verify a secret; the
// subject, app and scope claims above are the whole of what this package
// adds to it.
package mqttauth
