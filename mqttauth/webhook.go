package mqttauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/strictjson"
)

// Limits and defaults of the webhook.
const (
	maxWebhookBody     = 64 << 10 // bytes of a request body
	maxWebhookTopics   = 64       // topics of one VerneMQ auth_on_subscribe
	defaultSessionTTL  = 24 * time.Hour
	defaultMaxSessions = 100_000
)

// A Webhook lets a clustered broker use the [Guard] over HTTP: EMQX 5's
// HTTP authentication and authorization, and VerneMQ's webhooks. Make one
// with [NewWebhook]. It is an http.Handler for these paths (all POST,
// JSON):
//
//	/emqx/authn   EMQX HTTP authenticator
//	/emqx/authz   EMQX HTTP authorizer
//	/vernemq      VerneMQ webhooks, dispatched by the vernemq-hook header:
//	              auth_on_register, auth_on_subscribe, auth_on_publish,
//	              their _m5 variants, on_client_offline and on_client_gone
//
// Every request must carry the broker's credentials ([BrokerAuth]); one
// that does not gets 401 and changes nothing. Bodies are read strictly:
// exact member names, no duplicates in any case, no unknown members, no
// trailing data.
//
// Brokers send no password with authorization requests, so a Webhook keeps
// the principal of each authenticated connection, by client id and user
// name, for SessionTTL after its last use (and never past its secret's
// expiry), and checks it against the revocation list at every request.
// Authorization for a connection it did not authenticate is denied: send a
// broker node's authentication and authorization requests to the same
// Webhook (one per node, or client-id affinity at the load balancer).
//
// Set SessionTTL, MaxSessions and Now before serving. A Webhook is safe for
// concurrent use. A Webhook not made by NewWebhook answers every request
// with 500 and touches nothing.
type Webhook struct {
	// SessionTTL is how long a connection's principal is kept after its
	// last request; zero means 24 hours.
	SessionTTL time.Duration
	// MaxSessions caps the principals kept; zero means 100,000. When
	// full, expired ones are dropped first, then arbitrary ones (their
	// next authorization is denied).
	MaxSessions int
	// Now returns the current time (sessions, client certificates). Nil
	// means time.Now.
	Now func() time.Time

	guard  *Guard
	broker *brokerCheck

	mu       sync.Mutex
	sessions map[sessionKey]*webhookSession
}

// NewWebhook returns a Webhook that answers the broker authenticated by
// broker with guard's decisions. It refuses, with an error under
// [ErrConfig], a nil guard and a BrokerAuth without any credential or with
// a weak one.
func NewWebhook(guard *Guard, broker BrokerAuth) (*Webhook, error) {
	if guard == nil {
		return nil, reason.Newf(ErrConfig, nil, "NewWebhook: no Guard")
	}
	c, err := broker.check()
	if err != nil {
		return nil, err
	}
	return &Webhook{guard: guard, broker: c}, nil
}

type sessionKey struct{ clientID, username string }

type webhookSession struct {
	p       *Principal
	expires time.Time
}

func (w *Webhook) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Webhook) ttl() time.Duration {
	if w.SessionTTL > 0 {
		return w.SessionTTL
	}
	return defaultSessionTTL
}

// remember keeps the principal of an authenticated connection.
func (w *Webhook) remember(p *Principal) {
	now := w.now()
	max := w.MaxSessions
	if max <= 0 {
		max = defaultMaxSessions
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sessions == nil {
		w.sessions = make(map[sessionKey]*webhookSession)
	}
	if len(w.sessions) >= max {
		for k, s := range w.sessions {
			if !now.Before(s.expires) {
				delete(w.sessions, k)
			}
		}
		for k := range w.sessions {
			if len(w.sessions) < max {
				break
			}
			delete(w.sessions, k)
		}
	}
	w.sessions[sessionKey{p.ClientID, p.Key}] = &webhookSession{p: p, expires: w.expiry(p, now)}
}

func (w *Webhook) expiry(p *Principal, now time.Time) time.Time {
	exp := now.Add(w.ttl())
	if !p.Expires.IsZero() && p.Expires.Before(exp) {
		exp = p.Expires
	}
	return exp
}

// lookup returns the principal of a connection the Webhook authenticated,
// still valid, or nil. Its error is a server-side failure (revocation list
// unavailable).
func (w *Webhook) lookup(ctx context.Context, clientID, username string) (*Principal, error) {
	now := w.now()
	k := sessionKey{clientID, username}
	w.mu.Lock()
	s, ok := w.sessions[k]
	if ok && !now.Before(s.expires) {
		delete(w.sessions, k)
		ok = false
	}
	w.mu.Unlock()
	if !ok {
		return nil, nil
	}
	if err := w.guard.Recheck(ctx, s.p); err != nil {
		if errors.Is(err, ErrAuthentication) {
			w.forget(clientID, username)
			return nil, nil
		}
		return nil, err
	}
	w.mu.Lock()
	s.expires = w.expiry(s.p, now)
	w.mu.Unlock()
	return s.p, nil
}

func (w *Webhook) forget(clientID, username string) {
	w.mu.Lock()
	delete(w.sessions, sessionKey{clientID, username})
	w.mu.Unlock()
}

// ServeHTTP implements http.Handler.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if w.guard == nil || w.broker == nil {
		http.Error(rw, "webhook not configured (use mqttauth.NewWebhook)", http.StatusInternalServerError)
		return
	}
	if !w.broker.allows(r, w) {
		if w.broker.basic {
			rw.Header().Set("WWW-Authenticate", `Basic realm="mqttauth webhook", charset="UTF-8"`)
		}
		http.Error(rw, "broker credentials required", http.StatusUnauthorized)
		return
	}
	body, err := readBody(rw, r)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/emqx/authn":
		w.emqxAuthn(rw, r.Context(), body)
	case "/emqx/authz":
		w.emqxAuthz(rw, r.Context(), body)
	case "/vernemq":
		w.vernemq(rw, r, body)
	default:
		http.NotFound(rw, r)
	}
}

// readBody reads a body of at most maxWebhookBody bytes.
func readBody(rw http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxWebhookBody))
	if err != nil {
		return nil, reason.Newf(errWebhookRequest, nil, "body too large or unreadable")
	}
	return body, nil
}

// decode reads a body into v with internal/strictjson: exact member names,
// no duplicates in any case, no unknown members, nothing after the object.
// encoding/json alone matches names in any case and keeps the last of
// duplicate members, which lets a body mean one thing to a proxy and
// another to us.
func decode(body []byte, v any) error {
	if err := strictjson.DecodeLimits(body, v, strictjson.Limits{MaxSize: maxWebhookBody}); err != nil {
		return reason.Wrap(errWebhookRequest, nil, err)
	}
	return nil
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// EMQX 5.
//
// Configure the HTTP authenticator with method POST and the body
//
//	{"clientid": "${clientid}", "username": "${username}", "password": "${password}"}
//
// and the HTTP authorizer with method POST and the body
//
//	{"clientid": "${clientid}", "username": "${username}", "topic": "${topic}", "action": "${action}"}
//
// Both send the broker's credential in their headers: with
// BrokerAuth{HeaderName: "X-Latch-Webhook-Secret", HeaderSecret: s},
//
//	headers { "content-type" = "application/json", "x-latch-webhook-secret" = "<s>" }
//
// (or "authorization" = "Basic <base64 of user:password>" for BasicUser
// and BasicPassword). For a client certificate instead or as well, set the
// authenticator's and authorizer's ssl { enable = true, certfile, keyfile,
// cacertfile } and BrokerAuth.ClientCAs. Use https: the secret crosses the
// network with every request.
//
// Answers are {"result": "allow"|"deny", "is_superuser": false} (is_superuser
// only for authentication, and never true). A request the guard cannot
// decide gets HTTP 503, which EMQX treats as "ignore": make this the only
// authenticator and authorizer of the chain, with authorization no_match =
// deny, so that ignore means refusal.

type emqxAuthnRequest struct {
	ClientID string `json:"clientid"`
	Username string `json:"username"`
	Password string `json:"password"`
}

type emqxAuthzRequest struct {
	ClientID string `json:"clientid"`
	Username string `json:"username"`
	Topic    string `json:"topic"`
	Action   string `json:"action"`
}

type emqxResponse struct {
	Result      string `json:"result"`
	IsSuperuser *bool  `json:"is_superuser,omitempty"`
}

func (w *Webhook) emqxAuthn(rw http.ResponseWriter, ctx context.Context, body []byte) {
	var req emqxAuthnRequest
	if err := decode(body, &req); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	no := false
	p, err := w.guard.Authenticate(ctx, req.ClientID, req.Username, req.Password)
	switch {
	case err == nil:
		w.remember(p)
		writeJSON(rw, http.StatusOK, emqxResponse{Result: "allow", IsSuperuser: &no})
	case errors.Is(err, ErrAuthentication):
		writeJSON(rw, http.StatusOK, emqxResponse{Result: "deny", IsSuperuser: &no})
	default:
		writeJSON(rw, http.StatusServiceUnavailable, emqxResponse{Result: "ignore"})
	}
}

func (w *Webhook) emqxAuthz(rw http.ResponseWriter, ctx context.Context, body []byte) {
	var req emqxAuthzRequest
	if err := decode(body, &req); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	p, err := w.lookup(ctx, req.ClientID, req.Username)
	if err != nil {
		writeJSON(rw, http.StatusServiceUnavailable, emqxResponse{Result: "ignore"})
		return
	}
	allowed := false
	if p != nil {
		switch req.Action {
		case "publish":
			allowed = p.CheckPublish(req.Topic) == nil
		case "subscribe":
			allowed = p.CheckSubscribe(req.Topic) == nil
		}
	}
	result := "deny"
	if allowed {
		result = "allow"
	}
	writeJSON(rw, http.StatusOK, emqxResponse{Result: result})
}

// VerneMQ.
//
// Register the hooks with the endpoint .../vernemq:
//
//	vmq-admin webhooks register hook=auth_on_register endpoint=https://vernemq:<password>@auth.example/vernemq
//
// and likewise auth_on_subscribe, auth_on_publish (and the _m5 variants for
// MQTT 5), on_client_offline and on_client_gone (which forget the session).
// vmq_webhooks cannot add a header of one's choosing, so the broker
// authenticates with HTTP Basic or a client certificate: its HTTP client
// (hackney) sends the user and password of the endpoint URL as HTTP Basic
// (BrokerAuth.BasicUser and BasicPassword; the password then shows in
// `vmq-admin webhooks show` and in vernemq.conf, so keep both private);
// for mTLS, set vmq_webhooks.certfile, vmq_webhooks.keyfile (and
// vmq_webhooks.cafile for the webhook's server certificate) in
// vernemq.conf, and BrokerAuth.ClientCAs to the pool that signed certfile
// (or to certfile itself if self-signed).
// Answers: {"result": "ok"}, or {"result": {"error": "not_allowed"}}; a
// subscription gets per-topic results, qos 128 (0x87 for _m5) for the
// topics refused. A request the guard cannot decide gets HTTP 503, which
// VerneMQ treats as an error (refusal). Requests with a mountpoint other
// than "" are refused: a mountpoint changes the topics the ACL sees.

type vmqTopic struct {
	Topic string `json:"topic"`
	QoS   int    `json:"qos"`
}

type vmqRequest struct {
	PeerAddr     string          `json:"peer_addr"`
	PeerPort     int             `json:"peer_port"`
	Username     *string         `json:"username"`
	Password     *string         `json:"password"`
	Mountpoint   string          `json:"mountpoint"`
	ClientID     string          `json:"client_id"`
	CleanSession *bool           `json:"clean_session"`
	CleanStart   *bool           `json:"clean_start"`
	Topics       []vmqTopic      `json:"topics"`
	QoS          int             `json:"qos"`
	Topic        string          `json:"topic"`
	Payload      string          `json:"payload"`
	Retain       bool            `json:"retain"`
	Properties   json.RawMessage `json:"properties"`
}

var vmqNotAllowed = map[string]any{"result": map[string]string{"error": "not_allowed"}}

func (w *Webhook) vernemq(rw http.ResponseWriter, r *http.Request, body []byte) {
	hook := r.Header.Get("vernemq-hook")
	var req vmqRequest
	if err := decode(body, &req); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if len(req.Topics) > maxWebhookTopics {
		http.Error(rw, "too many topics", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	username := ""
	if req.Username != nil {
		username = *req.Username
	}
	switch hook {
	case "on_client_offline", "on_client_gone":
		w.mu.Lock()
		for k := range w.sessions {
			if k.clientID == req.ClientID {
				delete(w.sessions, k)
			}
		}
		w.mu.Unlock()
		writeJSON(rw, http.StatusOK, struct{}{})
		return
	case "auth_on_register", "auth_on_register_m5":
		if req.Mountpoint != "" || req.Password == nil {
			writeJSON(rw, http.StatusOK, vmqNotAllowed)
			return
		}
		p, err := w.guard.Authenticate(ctx, req.ClientID, username, *req.Password)
		switch {
		case err == nil:
			w.remember(p)
			writeJSON(rw, http.StatusOK, map[string]string{"result": "ok"})
		case errors.Is(err, ErrAuthentication):
			writeJSON(rw, http.StatusOK, vmqNotAllowed)
		default:
			http.Error(rw, "guard unavailable", http.StatusServiceUnavailable)
		}
		return
	case "auth_on_subscribe", "auth_on_subscribe_m5", "auth_on_publish", "auth_on_publish_m5":
	default:
		http.Error(rw, "unknown hook", http.StatusBadRequest)
		return
	}
	if req.Mountpoint != "" {
		writeJSON(rw, http.StatusOK, vmqNotAllowed)
		return
	}
	p, err := w.lookup(ctx, req.ClientID, username)
	if err != nil {
		http.Error(rw, "guard unavailable", http.StatusServiceUnavailable)
		return
	}
	if p == nil {
		writeJSON(rw, http.StatusOK, vmqNotAllowed)
		return
	}
	switch hook {
	case "auth_on_publish", "auth_on_publish_m5":
		if p.CheckPublish(req.Topic) != nil {
			writeJSON(rw, http.StatusOK, vmqNotAllowed)
			return
		}
		writeJSON(rw, http.StatusOK, map[string]string{"result": "ok"})
	default:
		refused := 128
		if hook == "auth_on_subscribe_m5" {
			refused = 0x87
		}
		topics := make([]vmqTopic, len(req.Topics))
		for i, t := range req.Topics {
			topics[i] = t
			if p.CheckSubscribe(t.Topic) != nil {
				topics[i].QoS = refused
			}
		}
		if hook == "auth_on_subscribe_m5" {
			writeJSON(rw, http.StatusOK, map[string]any{"result": "ok", "modifiers": map[string]any{"topics": topics}})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]any{"result": "ok", "topics": topics})
	}
}
