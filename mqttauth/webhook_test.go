package mqttauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/token"
)

type hookEnv struct {
	*env
	srv  *httptest.Server
	hook *mqttauth.Webhook
	dev  *mqttauth.Credential
}

// The broker's credential in the tests: a shared secret in a header.
const (
	brokerHeader = "X-Latch-Webhook-Secret"
	brokerSecret = "broker-secret-0123456789abcdef"
)

// asBroker adds the broker's credential to a request.
func asBroker(r *http.Request) { r.Header.Set(brokerHeader, brokerSecret) }

func newHookEnv(t *testing.T) *hookEnv {
	e := newEnv(t, deviceACL)
	h, err := mqttauth.NewWebhook(e.guard, mqttauth.BrokerAuth{HeaderName: brokerHeader, HeaderSecret: brokerSecret})
	require.NoError(t, err)
	h.Now, h.SessionTTL = e.clock.Now, time.Hour
	srv := httptest.NewServer(h) // listens on 127.0.0.1:0
	t.Cleanup(srv.Close)
	return &hookEnv{env: e, srv: srv, hook: h, dev: e.issue(t, mqttauth.KeyRequest{App: "app-1", Device: "dev-1"})}
}

// post sends body to path as the broker, with the given vernemq-hook header
// ("" for none), and returns the status and the decoded JSON answer.
func (h *hookEnv) post(t *testing.T, path, vmqHook, body string) (int, map[string]any) {
	t.Helper()
	return h.postAs(t, asBroker, path, vmqHook, body)
}

// postAs is post with the credentials that auth adds (nil: none).
func (h *hookEnv) postAs(t *testing.T, auth func(*http.Request), path, vmqHook, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != nil {
		auth(req)
	}
	req.Header.Set("Content-Type", "application/json")
	if vmqHook != "" {
		req.Header.Set("vernemq-hook", vmqHook)
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v map[string]any
	if resp.Header.Get("Content-Type") == "application/json" {
		require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	}
	return resp.StatusCode, v
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// The bodies EMQX 5 sends with the templates of the package documentation.
func TestWebhookEMQX(t *testing.T) {
	h := newHookEnv(t)
	authn := func(clientID, user, pass string) (int, map[string]any) {
		return h.post(t, "/emqx/authn", "", fmt.Sprintf(`{"clientid": %s, "username": %s, "password": %s}`, js(clientID), js(user), js(pass)))
	}
	authz := func(clientID, user, topic, action string) string {
		st, v := h.post(t, "/emqx/authz", "", fmt.Sprintf(`{"clientid": %s, "username": %s, "topic": %s, "action": %s}`, js(clientID), js(user), js(topic), js(action)))
		require.Equal(t, http.StatusOK, st)
		return v["result"].(string)
	}
	// Not authenticated here: denied.
	require.Equal(t, "deny", authz("app-1:dev-1", h.dev.Key, "apps/app-1/devices/dev-1/state", "publish"))

	st, v := authn("app-1:dev-1", h.dev.Key, "wrong")
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, map[string]any{"result": "deny", "is_superuser": false}, v)
	st, v = authn("app-1:dev-2", h.dev.Key, h.dev.Secret) // another device's client id
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, "deny", v["result"])
	st, v = authn("app-1:dev-1", h.dev.Key, h.dev.Secret)
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, map[string]any{"result": "allow", "is_superuser": false}, v)

	for _, tt := range []struct{ topic, action, want string }{
		{"apps/app-1/devices/dev-1/state", "publish", "allow"},
		{"apps/app-1/devices/dev-2/state", "publish", "deny"},
		{"$SYS/broker/x", "publish", "deny"},
		{"apps/app-1/devices/dev-1/command/+", "subscribe", "allow"},
		{"$share/g/apps/app-1/devices/dev-1/command/+", "subscribe", "allow"},
		{"apps/app-1/devices/dev-1/command/#", "subscribe", "deny"},
		{"#", "subscribe", "deny"},
		{"apps/app-1/devices/dev-1/state", "all", "deny"},
	} {
		require.Equal(t, tt.want, authz("app-1:dev-1", h.dev.Key, tt.topic, tt.action), "%s %s", tt.action, tt.topic)
	}
	// Another client id, or user name, is another connection.
	require.Equal(t, "deny", authz("app-1:dev-2", h.dev.Key, "apps/app-1/devices/dev-1/state", "publish"))

	// Revoking the key ends authorization at once.
	require.NoError(t, h.provisioner.RevokeKey(context.Background(), h.dev.Key, h.dev.Device))
	require.Equal(t, "deny", authz("app-1:dev-1", h.dev.Key, "apps/app-1/devices/dev-1/state", "publish"))
}

func TestWebhookSessionExpiry(t *testing.T) {
	h := newHookEnv(t)
	st, _ := h.post(t, "/emqx/authn", "", js(map[string]string{"clientid": "app-1:dev-1", "username": h.dev.Key, "password": h.dev.Secret}))
	require.Equal(t, http.StatusOK, st)
	authz := func() string {
		_, v := h.post(t, "/emqx/authz", "", js(map[string]string{"clientid": "app-1:dev-1", "username": h.dev.Key, "topic": "apps/app-1/devices/dev-1/state", "action": "publish"}))
		return v["result"].(string)
	}
	// Each use extends the session by SessionTTL.
	h.clock.Set(t0.Add(50 * time.Minute))
	require.Equal(t, "allow", authz())
	h.clock.Set(t0.Add(100 * time.Minute))
	require.Equal(t, "allow", authz())
	h.clock.Set(t0.Add(161 * time.Minute))
	require.Equal(t, "deny", authz())
}

func TestWebhookUnavailableRevocations(t *testing.T) {
	h := newHookEnv(t)
	h.guard.Tokens.Revocations = failingRevocations{}
	st, v := h.post(t, "/emqx/authn", "", js(map[string]string{"clientid": "app-1:dev-1", "username": h.dev.Key, "password": h.dev.Secret}))
	require.Equal(t, http.StatusServiceUnavailable, st)
	require.Equal(t, "ignore", v["result"])
	st, _ = h.post(t, "/vernemq", "auth_on_register", js(map[string]any{"client_id": "app-1:dev-1", "username": h.dev.Key, "password": h.dev.Secret, "mountpoint": ""}))
	require.Equal(t, http.StatusServiceUnavailable, st)
}

type failingRevocations struct{}

func (failingRevocations) Revoked(context.Context, *token.Claims) (bool, error) {
	return false, token.ErrRevocationUnavailable
}
func (failingRevocations) RevokeID(context.Context, string, time.Time) error {
	return token.ErrRevocationUnavailable
}
func (failingRevocations) RevokeSubject(context.Context, string, time.Time) error {
	return token.ErrRevocationUnavailable
}

// The payloads of VerneMQ's webhook documentation, with our values.
func TestWebhookVerneMQ(t *testing.T) {
	h := newHookEnv(t)
	notAllowed := map[string]any{"result": map[string]any{"error": "not_allowed"}}
	register := func(hook, password string) map[string]any {
		body := fmt.Sprintf(`{
    "peer_addr": "127.0.0.1",
    "peer_port": 8888,
    "username": %s,
    "password": %s,
    "mountpoint": "",
    "client_id": "app-1:dev-1",
    "clean_session": false
}`, js(h.dev.Key), js(password))
		if hook == "auth_on_register_m5" {
			body = fmt.Sprintf(`{
    "peer_addr": "127.0.0.1",
    "peer_port": 8888,
    "mountpoint": "",
    "client_id": "app-1:dev-1",
    "username": %s,
    "password": %s,
    "clean_start": true,
    "properties": {}
}`, js(h.dev.Key), js(password))
		}
		st, v := h.post(t, "/vernemq", hook, body)
		require.Equal(t, http.StatusOK, st)
		return v
	}
	subscribe := `{
    "client_id": "app-1:dev-1",
    "mountpoint": "",
    "username": %s,
    "topics":
        [{"topic": "apps/app-1/devices/dev-1/command/+",
          "qos": 1},
         {"topic": "apps/app-1/#",
          "qos": 2}]
}`
	publish := `{
    "username": %s,
    "client_id": "app-1:dev-1",
    "mountpoint": "",
    "qos": 1,
    "topic": %s,
    "payload": "aGVsbG8=",
    "retain": false
}`
	// Before registering: nothing is allowed.
	_, v := h.post(t, "/vernemq", "auth_on_publish", fmt.Sprintf(publish, js(h.dev.Key), js("apps/app-1/devices/dev-1/state")))
	require.Equal(t, notAllowed, v)

	for _, hook := range []string{"auth_on_register", "auth_on_register_m5"} {
		require.Equal(t, notAllowed, register(hook, "wrong"))
		require.Equal(t, map[string]any{"result": "ok"}, register(hook, h.dev.Secret))
	}

	_, v = h.post(t, "/vernemq", "auth_on_subscribe", fmt.Sprintf(subscribe, js(h.dev.Key)))
	require.Equal(t, map[string]any{"result": "ok", "topics": []any{
		map[string]any{"topic": "apps/app-1/devices/dev-1/command/+", "qos": float64(1)},
		map[string]any{"topic": "apps/app-1/#", "qos": float64(128)},
	}}, v)
	_, v = h.post(t, "/vernemq", "auth_on_subscribe_m5", strings.Replace(fmt.Sprintf(subscribe, js(h.dev.Key)), `"mountpoint": "",`, `"mountpoint": "", "properties": {},`, 1))
	require.Equal(t, map[string]any{"result": "ok", "modifiers": map[string]any{"topics": []any{
		map[string]any{"topic": "apps/app-1/devices/dev-1/command/+", "qos": float64(1)},
		map[string]any{"topic": "apps/app-1/#", "qos": float64(0x87)},
	}}}, v)

	_, v = h.post(t, "/vernemq", "auth_on_publish", fmt.Sprintf(publish, js(h.dev.Key), js("apps/app-1/devices/dev-1/state")))
	require.Equal(t, map[string]any{"result": "ok"}, v)
	_, v = h.post(t, "/vernemq", "auth_on_publish_m5", fmt.Sprintf(publish, js(h.dev.Key), js("apps/app-1/devices/dev-2/state")))
	require.Equal(t, notAllowed, v)

	// A mountpoint changes the topics: refused.
	_, v = h.post(t, "/vernemq", "auth_on_publish", strings.Replace(fmt.Sprintf(publish, js(h.dev.Key), js("apps/app-1/devices/dev-1/state")), `"mountpoint": ""`, `"mountpoint": "x"`, 1))
	require.Equal(t, notAllowed, v)

	// The client goes away: its session is forgotten.
	st, v := h.post(t, "/vernemq", "on_client_gone", `{"client_id": "app-1:dev-1", "mountpoint": ""}`)
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, map[string]any{}, v)
	_, v = h.post(t, "/vernemq", "auth_on_publish", fmt.Sprintf(publish, js(h.dev.Key), js("apps/app-1/devices/dev-1/state")))
	require.Equal(t, notAllowed, v)

	// A null user name (VerneMQ sends one when the client gave none).
	_, v = h.post(t, "/vernemq", "auth_on_register", `{"peer_addr": "127.0.0.1", "peer_port": 1, "username": null, "password": null, "mountpoint": "", "client_id": "c", "clean_session": true}`)
	require.Equal(t, notAllowed, v)
}

func TestWebhookRefusesBadRequests(t *testing.T) {
	h := newHookEnv(t)
	good := js(map[string]string{"clientid": "app-1:dev-1", "username": h.dev.Key, "password": h.dev.Secret})
	for _, tt := range []struct {
		name, path, hook, body string
	}{
		{"duplicate member", "/emqx/authn", "", `{"clientid": "a", "username": "b", "password": "c", "password": "d"}`},
		{"duplicate member, escaped", "/emqx/authn", "", `{"clientid": "a", "username": "b", "password": "c", "pass\u0077ord": "d"}`},
		{"duplicate nested member", "/vernemq", "auth_on_subscribe", `{"client_id": "a", "mountpoint": "", "username": "b", "topics": [{"topic": "x", "topic": "y", "qos": 0}]}`},
		// encoding/json took these as clientid and client_id, the last one winning.
		{"member in another case", "/emqx/authn", "", `{"clientid": "app-1:dev-1", "username": "b", "password": "c", "ClientID": "app-1:dev-2"}`},
		{"member only in another case", "/emqx/authz", "", `{"ClientId": "app-1:dev-1", "username": "b", "topic": "t", "action": "publish"}`},
		{"vernemq member in another case", "/vernemq", "on_client_gone", `{"client_id": "x", "Client_ID": "app-1:dev-1", "mountpoint": ""}`},
		{"unknown member", "/emqx/authn", "", `{"clientid": "a", "username": "b", "password": "c", "is_superuser": true}`},
		{"trailing data", "/emqx/authn", "", good + ` {}`},
		{"not an object", "/emqx/authn", "", `["a"]`},
		{"invalid UTF-8", "/emqx/authn", "", "{\"clientid\": \"\xff\", \"username\": \"b\", \"password\": \"c\"}"},
		{"wrong type", "/emqx/authn", "", `{"clientid": 1, "username": "b", "password": "c"}`},
		{"truncated", "/emqx/authn", "", good[:len(good)-1]},
		{"too large", "/emqx/authn", "", `{"clientid": "` + strings.Repeat("a", mqttauth.MaxWebhookBody) + `"}`},
		{"too deep", "/vernemq", "auth_on_register", strings.Repeat(`{"properties":`, 40) + "{}" + strings.Repeat("}", 40)},
		{"too many topics", "/vernemq", "auth_on_subscribe", `{"client_id": "a", "mountpoint": "", "username": "b", "topics": [` + strings.Repeat(`{"topic": "x", "qos": 0},`, mqttauth.MaxWebhookTopics) + `{"topic": "x", "qos": 0}]}`},
		{"unknown hook", "/vernemq", "on_publish", `{"client_id": "a"}`},
		{"no hook header", "/vernemq", "", `{"client_id": "a"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := h.post(t, tt.path, tt.hook, tt.body)
			require.Equal(t, http.StatusBadRequest, st)
		})
	}
	st, _ := h.post(t, "/other", "", good)
	require.Equal(t, http.StatusNotFound, st)
	resp, err := h.srv.Client().Get(h.srv.URL + "/emqx/authn")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	// And a good body still works afterwards.
	st, v := h.post(t, "/emqx/authn", "", good)
	require.Equal(t, http.StatusOK, st)
	require.Equal(t, "allow", v["result"])
}

func TestWebhookSessionCap(t *testing.T) {
	h := newHookEnv(t)
	h.hook.MaxSessions = 2
	var creds []*mqttauth.Credential
	for i := range 3 {
		c := h.issue(t, mqttauth.KeyRequest{App: "app-1", Device: fmt.Sprintf("dev-%d", i+10)})
		creds = append(creds, c)
		st, v := h.post(t, "/emqx/authn", "", js(map[string]string{"clientid": c.App + ":" + c.Device, "username": c.Key, "password": c.Secret}))
		require.Equal(t, http.StatusOK, st)
		require.Equal(t, "allow", v["result"])
	}
	allowed := 0
	for _, c := range creds {
		_, v := h.post(t, "/emqx/authz", "", js(map[string]string{"clientid": c.App + ":" + c.Device, "username": c.Key, "topic": "apps/app-1/devices/" + c.Device + "/state", "action": "publish"}))
		if v["result"] == "allow" {
			allowed++
		}
	}
	require.Equal(t, 2, allowed)
}
