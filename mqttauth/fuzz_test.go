package mqttauth_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/latchsec/latch/mqttauth"
)

// FuzzTopic: the topic and filter parsers never panic, a topic name is
// also a filter, and what they accept is what MQTT allows.
func FuzzTopic(f *testing.F) {
	for _, s := range []string{"a/b", "a/+", "#", "+/#", "$SYS/x", "$share/g/a/#", "$queue/a", "a//b", "/", "a/#/b", "a+", "\x00", "\xff", "$share/g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		topic, filter := mqttauth.ValidTopic(s), mqttauth.ValidFilter(s)
		if topic && !filter {
			t.Fatalf("%q is a topic name but not a filter", s)
		}
		if filter {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || len(s) > mqttauth.MaxTopicLength {
				t.Fatalf("invalid filter %q accepted", s)
			}
		}
		if topic && strings.ContainsAny(s, "+#") {
			t.Fatalf("topic name with a wildcard %q accepted", s)
		}
	})
}

// FuzzIdentity: nothing ValidIdentity accepts can change a template's
// levels or reach $ topics.
func FuzzIdentity(f *testing.F) {
	for _, s := range []string{"dev-1", "#", "+", "a/b", "$SYS", "\x00", "é", "\u0085", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !mqttauth.ValidIdentity(s) {
			return
		}
		if strings.ContainsAny(s, "+#/\x00") || !utf8.ValidString(s) || s[0] == '$' || len(s) > mqttauth.MaxIdentityLength {
			t.Fatalf("%q accepted", s)
		}
		for _, r := range s {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
				t.Fatalf("%q with a control character accepted", s)
			}
		}
	})
}

// FuzzACL checks the ACL's promise: a filter the rules allow never matches
// a topic that no rule matches, and a topic the rules allow to be published
// is matched by a rule (matches is the specification's matching, written
// plainly). Rules are separated by newlines.
func FuzzACL(f *testing.F) {
	e := newEnv(f, mqttauth.ACLConfig{})
	cred := e.issue(f, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	f.Add("a/+\na/+/+/#", "a/#", "a/b/c")
	f.Add("a/#", "a", "a")
	f.Add("#", "$SYS/#", "$SYS/x")
	f.Add("a/{device}/+", "a/dev-1/#", "a/dev-1/x/y")
	f.Add("+/+", "$share/g/+/x", "a/x")
	f.Add("a", "a/#", "a/b")
	f.Add("a/$share\nb/$queue/+", "b/$queue/#", "a/")
	f.Fuzz(func(t *testing.T, rules, filter, topic string) {
		var rs []mqttauth.Rule
		for _, r := range strings.Split(rules, "\n") {
			rs = append(rs, mqttauth.Rule{Topic: r, Access: mqttauth.PublishSubscribe})
		}
		acl, err := mqttauth.Compile(mqttauth.ACLConfig{Rules: rs})
		if err != nil {
			return
		}
		v := &mqttauth.Guard{Tokens: e.guard.Tokens, ACL: acl}
		p, err := v.Authenticate(context.Background(), cred.Key, cred.Key, cred.Secret)
		if err != nil {
			t.Fatal(err)
		}
		expand := strings.NewReplacer("{app}", "app-1", "{device}", "dev-1", "{key}", cred.Key, "{clientid}", cred.Key)
		var expanded []string
		for _, r := range rs {
			x := expand.Replace(r.Topic)
			if !mqttauth.ValidFilter(x) {
				t.Fatalf("rule %q compiled but expands to the invalid filter %q", r.Topic, x)
			}
			expanded = append(expanded, x)
		}
		allowedBy := func(topic string) bool {
			for _, r := range expanded {
				if matches(r, topic) {
					return true
				}
			}
			return false
		}
		if p.CheckPublish(topic) == nil && !allowedBy(topic) {
			t.Fatalf("rules %q: publish to %q allowed, no rule matches it", expanded, topic)
		}
		if mqttauth.ValidTopic(topic) && !strings.HasPrefix(strings.ToUpper(topic), "$SYS") &&
			allowedBy(topic) != (p.CheckPublish(topic) == nil) {
			t.Fatalf("rules %q: publish to %q decided against the rules", expanded, topic)
		}
		if p.CheckSubscribe(filter) != nil || !mqttauth.ValidTopic(topic) {
			return
		}
		f := filter
		if strings.HasPrefix(f, "$share/") {
			f = f[strings.IndexByte(f[7:], '/')+8:]
		} else if strings.HasPrefix(f, "$queue/") {
			f = f[7:]
		}
		if matches(f, topic) && !allowedBy(topic) {
			t.Fatalf("rules %q allow filter %q, which matches %q, which no rule allows", expanded, filter, topic)
		}
	})
}

// FuzzTemplate: Compile never panics, and what it accepts expands to valid
// filters and to client ids that are valid or too long to match any.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"apps/{app}/devices/{device}/#", "{clientid}", "{app}:{device}", "a/{x}", "{", "}", "a/{app}+", "$share/g/a", "{key}{app}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		expand := strings.NewReplacer("{app}", "app-1", "{device}", "dev-1", "{key}", "mk_aaaaaaaaaaaaaaaaaaaaaaaaaa", "{clientid}", "c-1")
		if _, err := mqttauth.Compile(mqttauth.ACLConfig{Rules: []mqttauth.Rule{{Topic: s, Access: mqttauth.Subscribe}}}); err == nil {
			if x := expand.Replace(s); !mqttauth.ValidFilter(x) {
				t.Fatalf("rule template %q accepted, expands to %q", s, x)
			}
		}
		// A client id template's expansion may outgrow MaxIdentityLength
		// for long identities: it then matches no client id (each is
		// checked against the cap first), which refuses, as it should.
		// Anything else it expands to must be a valid client id.
		if _, err := mqttauth.Compile(mqttauth.ACLConfig{ClientIDs: []string{s}}); err == nil {
			if x := expand.Replace(s); !mqttauth.ValidIdentity(x) && len(x) <= mqttauth.MaxIdentityLength {
				t.Fatalf("client id template %q accepted, expands to %q", s, x)
			}
		}
	})
}

// FuzzWebhook: any body to any endpoint gets an answer (200, 400 or 404),
// never a panic; a body accepted as strict JSON is valid JSON.
func FuzzWebhook(f *testing.F) {
	e := newEnv(f, deviceACL)
	h, err := mqttauth.NewWebhook(e.guard, mqttauth.BrokerAuth{HeaderName: brokerHeader, HeaderSecret: brokerSecret})
	if err != nil {
		f.Fatal(err)
	}
	h.Now = e.clock.Now
	cred := e.issue(f, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})
	f.Add("/emqx/authn", "", js(map[string]string{"clientid": "app-1:dev-1", "username": cred.Key, "password": cred.Secret}))
	f.Add("/emqx/authz", "", `{"clientid": "app-1:dev-1", "username": "u", "topic": "a/b", "action": "publish"}`)
	f.Add("/vernemq", "auth_on_subscribe", `{"client_id": "c", "mountpoint": "", "username": "u", "topics": [{"topic": "a/b", "qos": 1}]}`)
	f.Add("/vernemq", "auth_on_publish", `{"username": "u", "client_id": "c", "mountpoint": "", "qos": 1, "topic": "a/b", "payload": "aGk=", "retain": false}`)
	f.Add("/vernemq", "auth_on_register", `{"a": {"b": [1, {"c": null}]}, "a": 1}`)
	f.Fuzz(func(t *testing.T, path, hook, body string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
		req.URL.Path = path
		req.Header.Set("vernemq-hook", hook)
		asBroker(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if !json.Valid([]byte(body)) {
				t.Fatalf("invalid JSON accepted: %q", body)
			}
			var v any
			if err := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&v); err != nil {
				t.Fatalf("answer is not JSON: %q", rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusNotFound:
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// FuzzKey: ValidKey accepts exactly the canonical base32 encodings of 128
// bits after the prefix.
func FuzzKey(f *testing.F) {
	f.Add("mk_aaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("mk_aaaaaaaaaaaaaaaaaaaaaaaaab")
	f.Add("mk_77777777777777777777777777")
	f.Fuzz(func(t *testing.T, s string) {
		enc := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
		want := false
		if rest, ok := strings.CutPrefix(s, mqttauth.KeyPrefix); ok {
			b, err := enc.DecodeString(rest)
			want = err == nil && len(b) == 16 && enc.EncodeToString(b) == rest
		}
		if got := mqttauth.ValidKey(s); got != want {
			t.Fatalf("ValidKey(%q) = %v, want %v", s, got, want)
		}
	})
}
