package mqttauth_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/latchsec/latch/internal/testpki"
	"github.com/latchsec/latch/mqttauth"
)

func TestNewWebhookRefusesWithoutBrokerCredentials(t *testing.T) {
	e := newEnv(t, deviceACL)
	long := strings.Repeat("s", mqttauth.MinBrokerSecret)
	for name, a := range map[string]mqttauth.BrokerAuth{
		"nothing":                 {},
		"header without secret":   {HeaderName: "X-Secret"},
		"secret without header":   {HeaderSecret: long},
		"short header secret":     {HeaderName: "X-Secret", HeaderSecret: long[1:]},
		"bad header name":         {HeaderName: "X Secret", HeaderSecret: long},
		"user without password":   {BasicUser: "broker"},
		"password without user":   {BasicPassword: long},
		"short password":          {BasicUser: "broker", BasicPassword: long[1:]},
		"colon in user":           {BasicUser: "bro:ker", BasicPassword: long},
		"authorization and basic": {HeaderName: "authorization", HeaderSecret: long, BasicUser: "b", BasicPassword: long},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := mqttauth.NewWebhook(e.guard, a)
			require.ErrorIs(t, err, mqttauth.ErrConfig)
			require.Nil(t, h)
			require.NotContains(t, err.Error(), long, "an error quotes the secret")
		})
	}
	_, err := mqttauth.NewWebhook(nil, mqttauth.BrokerAuth{HeaderName: "X-Secret", HeaderSecret: long})
	require.ErrorIs(t, err, mqttauth.ErrConfig)

	// A Webhook not made by NewWebhook answers nobody.
	rec := httptest.NewRecorder()
	new(mqttauth.Webhook).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/emqx/authz", strings.NewReader(`{}`)))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
}

// TestWebhookRefusesOutsiders: the attacks of issue 16 by someone who can
// reach the webhook but has no broker credential. On the webhook before
// BrokerAuth, on_client_gone erased the device's session (its next publish
// was denied) and /emqx/authz told anyone whether a client was connected.
func TestWebhookRefusesOutsiders(t *testing.T) {
	h := newHookEnv(t)
	st, _ := h.post(t, "/vernemq", "auth_on_register", js(map[string]any{"client_id": "app-1:dev-1", "username": h.dev.Key, "password": h.dev.Secret, "mountpoint": ""}))
	require.Equal(t, http.StatusOK, st)
	publish := js(map[string]any{"client_id": "app-1:dev-1", "username": h.dev.Key, "mountpoint": "", "topic": "apps/app-1/devices/dev-1/state", "qos": 0, "payload": "", "retain": false})
	authz := js(map[string]string{"clientid": "app-1:dev-1", "username": h.dev.Key, "topic": "apps/app-1/devices/dev-1/state", "action": "publish"})

	outsiders := map[string]func(*http.Request){
		"no credential":            nil,
		"wrong secret":             func(r *http.Request) { r.Header.Set(brokerHeader, brokerSecret[:len(brokerSecret)-1]+"x") },
		"secret with a suffix":     func(r *http.Request) { r.Header.Set(brokerHeader, brokerSecret+"x") },
		"secret prefix":            func(r *http.Request) { r.Header.Set(brokerHeader, brokerSecret[:8]) },
		"empty secret":             func(r *http.Request) { r.Header.Set(brokerHeader, "") },
		"secret in another header": func(r *http.Request) { r.Header.Set("X-Webhook-Secret", brokerSecret) },
		"secret as bearer":         func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+brokerSecret) },
		"secret as basic password": func(r *http.Request) { r.SetBasicAuth("broker", brokerSecret) },
		"two values, one right": func(r *http.Request) {
			r.Header.Add(brokerHeader, "guess")
			r.Header.Add(brokerHeader, brokerSecret)
		},
	}
	for name, auth := range outsiders {
		t.Run(name, func(t *testing.T) {
			st, v := h.postAs(t, auth, "/vernemq", "on_client_gone", `{"client_id":"app-1:dev-1","mountpoint":""}`)
			require.Equal(t, http.StatusUnauthorized, st)
			require.Nil(t, v)
			st, v = h.postAs(t, auth, "/emqx/authz", "", authz)
			require.Equal(t, http.StatusUnauthorized, st, "authz answered an outsider: %v", v)
			require.Nil(t, v, "an answer for an outsider")
			st, v = h.postAs(t, auth, "/emqx/authn", "", js(map[string]string{"clientid": "app-1:dev-1", "username": h.dev.Key, "password": h.dev.Secret}))
			require.Equal(t, http.StatusUnauthorized, st, "authn answered an outsider: %v", v)
			// The device's session is still there.
			st, v = h.post(t, "/vernemq", "auth_on_publish", publish)
			require.Equal(t, http.StatusOK, st)
			require.Equal(t, "ok", v["result"], "the outsider's on_client_gone erased the session")
		})
	}
	// The broker itself can end the session.
	st, _ = h.post(t, "/vernemq", "on_client_gone", `{"client_id":"app-1:dev-1","mountpoint":""}`)
	require.Equal(t, http.StatusOK, st)
	_, v := h.post(t, "/vernemq", "auth_on_publish", publish)
	require.NotEqual(t, "ok", v["result"])
}

// TestWebhookBasicAuth: VerneMQ sends HTTP Basic from the user and password
// in its endpoint URL (hackney does); so does Go's client, used here.
func TestWebhookBasicAuth(t *testing.T) {
	e := newEnv(t, deviceACL)
	const pass = "basic-password-0123456789"
	h, err := mqttauth.NewWebhook(e.guard, mqttauth.BrokerAuth{BasicUser: "vernemq", BasicPassword: pass})
	require.NoError(t, err)
	h.Now = e.clock.Now
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	post := func(user *url.Userinfo) *http.Response {
		u, err := url.Parse(srv.URL + "/vernemq")
		require.NoError(t, err)
		u.User = user
		req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(`{"client_id":"app-1:dev-1","mountpoint":""}`))
		require.NoError(t, err)
		req.Header.Set("vernemq-hook", "on_client_offline")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	require.Equal(t, http.StatusOK, post(url.UserPassword("vernemq", pass)).StatusCode)
	for _, u := range []*url.Userinfo{nil, url.UserPassword("vernemq", pass+"x"), url.UserPassword("VerneMQ", pass), url.User("vernemq"), url.UserPassword("emqx", pass)} {
		resp := post(u)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%v", u)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	}
	// A malformed Authorization header is refused too.
	req := httptest.NewRequest(http.MethodPost, "/vernemq", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("vernemq"+pass)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

// TestWebhookClientCertificate: mTLS against a real TLS listener that only
// asks for client certificates; the Webhook verifies the chain itself.
func TestWebhookClientCertificate(t *testing.T) {
	e := newEnv(t, deviceACL)
	now := e.clock.Now()
	valid := testpki.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), CA: true}
	ca := testpki.New(t, valid, nil)
	leaf := func(o testpki.Options, parent *testpki.Cert) *testpki.Cert {
		if o.NotAfter.IsZero() {
			o.NotBefore, o.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		}
		if o.ExtKeyUsage == nil {
			o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}
		o.CommonName = "broker"
		return testpki.New(t, o, parent)
	}
	broker := leaf(testpki.Options{}, ca)
	pinned := leaf(testpki.Options{}, nil) // a self-signed broker certificate, pinned as its own pool
	otherCA := testpki.New(t, valid, nil)

	pool := ca.Pool()
	pool.AddCert(pinned.Cert)
	h, err := mqttauth.NewWebhook(e.guard, mqttauth.BrokerAuth{ClientCAs: pool})
	require.NoError(t, err)
	h.Now = e.clock.Now
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	post := func(cert *testpki.Cert) int {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{cert.TLS()}
		}
		c := &http.Client{Transport: tr}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/vernemq", strings.NewReader(`{"client_id":"app-1:dev-1","mountpoint":""}`))
		require.NoError(t, err)
		req.Header.Set("vernemq-hook", "on_client_offline")
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, post(broker))
	require.Equal(t, http.StatusOK, post(pinned))
	for name, cert := range map[string]*testpki.Cert{
		"no certificate":   nil,
		"another CA's":     leaf(testpki.Options{}, otherCA),
		"self-signed":      leaf(testpki.Options{}, nil),
		"server-auth only": leaf(testpki.Options{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca),
		"expired":          leaf(testpki.Options{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}, ca),
		"not yet valid":    leaf(testpki.Options{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)}, ca),
	} {
		require.Equal(t, http.StatusUnauthorized, post(cert), name)
	}

	// Without TLS at all: refused.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/vernemq", strings.NewReader(`{}`)))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

// TestWebhookEveryCredentialRequired: with a header secret and a client
// certificate both configured, either alone is refused.
func TestWebhookEveryCredentialRequired(t *testing.T) {
	e := newEnv(t, deviceACL)
	now := e.clock.Now()
	ca := testpki.New(t, testpki.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), CA: true}, nil)
	cert := testpki.New(t, testpki.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	h, err := mqttauth.NewWebhook(e.guard, mqttauth.BrokerAuth{HeaderName: brokerHeader, HeaderSecret: brokerSecret, ClientCAs: ca.Pool()})
	require.NoError(t, err)
	h.Now = e.clock.Now
	serve := func(secret bool, peer bool) int {
		req := httptest.NewRequest(http.MethodPost, "/vernemq", strings.NewReader(`{"client_id":"c","mountpoint":""}`))
		req.Header.Set("vernemq-hook", "on_client_offline")
		if secret {
			asBroker(req)
		}
		if peer {
			req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert.Cert}}
		} else {
			req.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	require.Equal(t, http.StatusOK, serve(true, true))
	require.Equal(t, http.StatusUnauthorized, serve(true, false))
	require.Equal(t, http.StatusUnauthorized, serve(false, true))
}
