package mqttauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits of the webhook.
const (
	MaxWebhookBody   = 64 << 10 // bytes of a request body
	MaxWebhookTopics = 64       // topics of one VerneMQ auth_on_subscribe
)

// Defaults of the webhook.
const (
	DefaultSessionTTL  = 24 * time.Hour
	DefaultMaxSessions = 100_000
)

// A Webhook lets a clustered broker use the [Verifier] over HTTP: EMQX 5's
// HTTP authentication and authorization, and VerneMQ's webhooks. It is an
// http.Handler for these paths (all POST, JSON):
//
//	/emqx/authn   EMQX HTTP authenticator
//	/emqx/authz   EMQX HTTP authorizer
//	/vernemq      VerneMQ webhooks, dispatched by the vernemq-hook header:
//	              auth_on_register, auth_on_subscribe, auth_on_publish,
//	              their _m5 variants, on_client_offline and on_client_gone
//
// Brokers send no password with authorization requests, so a Webhook keeps
// the principal of each authenticated connection, by client id and user
// name, for SessionTTL after its last use (and never past its secret's
// expiry), and checks it against the revocation list at every request.
// Authorization for a connection it did not authenticate is denied: send a
// broker node's authentication and authorization requests to the same
// Webhook (one per node, or client-id affinity at the load balancer).
//
// Verifier is required. A Webhook is safe for concurrent use.
type Webhook struct {
	Verifier *Verifier
	// SessionTTL is how long a connection's principal is kept after its
	// last request; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// MaxSessions caps the principals kept; zero means
	// DefaultMaxSessions. When full, expired ones are dropped first, then
	// arbitrary ones (their next authorization is denied).
	MaxSessions int
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	sessions map[sessionKey]*webhookSession
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
	return DefaultSessionTTL
}

// remember keeps the principal of an authenticated connection.
func (w *Webhook) remember(p *Principal) {
	now := w.now()
	max := w.MaxSessions
	if max <= 0 {
		max = DefaultMaxSessions
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
	if err := w.Verifier.Recheck(ctx, s.p); err != nil {
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
	if w.Verifier == nil {
		http.Error(rw, "webhook not configured", http.StatusInternalServerError)
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

// ErrWebhookRequest is under every request body the webhook refuses.
var ErrWebhookRequest = errors.New("mqttauth: invalid webhook request")

// readBody reads a JSON body of at most MaxWebhookBody bytes and checks it
// is strict JSON (see strictJSON).
func readBody(rw http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxWebhookBody))
	if err != nil {
		return nil, fmt.Errorf("%w: body too large or unreadable", ErrWebhookRequest)
	}
	if err := strictJSON(body); err != nil {
		return nil, err
	}
	return body, nil
}

// strictJSON checks that b is one JSON object, valid UTF-8, without
// duplicate member names (compared after unescaping) at any depth and
// without anything after it. encoding/json alone keeps the last of
// duplicate members, which lets a body mean one thing to a proxy and
// another to us.
func strictJSON(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: invalid UTF-8", ErrWebhookRequest)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // next token is a key
	}
	var stack []*frame
	first := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: malformed JSON", ErrWebhookRequest)
		}
		if first {
			if delim, ok := tok.(json.Delim); !ok || delim != '{' {
				return fmt.Errorf("%w: not a JSON object", ErrWebhookRequest)
			}
		} else if len(stack) == 0 {
			return fmt.Errorf("%w: data after the JSON object", ErrWebhookRequest)
		}
		first = false
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if delim, ok := tok.(json.Delim); ok && delim == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return fmt.Errorf("%w: duplicate member %q", ErrWebhookRequest, k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // a value: the next token is a key again
		}
		if delim, ok := tok.(json.Delim); ok {
			switch delim {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) > 32 {
			return fmt.Errorf("%w: nested too deep", ErrWebhookRequest)
		}
	}
	return nil
}

// decode reads a strict JSON body into v, refusing unknown members.
func decode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrWebhookRequest, err)
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
// Answers are {"result": "allow"|"deny", "is_superuser": false} (is_superuser
// only for authentication, and never true). A request the verifier cannot
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
	p, err := w.Verifier.Authenticate(ctx, req.ClientID, req.Username, req.Password)
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
			allowed = p.CanPublish(req.Topic) == nil
		case "subscribe":
			allowed = p.CanSubscribe(req.Topic) == nil
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
//	vmq-admin webhooks register hook=auth_on_register endpoint=https://auth.example/vernemq
//
// and likewise auth_on_subscribe, auth_on_publish (and the _m5 variants for
// MQTT 5), on_client_offline and on_client_gone (which forget the session).
// Answers: {"result": "ok"}, or {"result": {"error": "not_allowed"}}; a
// subscription gets per-topic results, qos 128 (0x87 for _m5) for the
// topics refused. A request the verifier cannot decide gets HTTP 503, which
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
	if len(req.Topics) > MaxWebhookTopics {
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
		p, err := w.Verifier.Authenticate(ctx, req.ClientID, username, *req.Password)
		switch {
		case err == nil:
			w.remember(p)
			writeJSON(rw, http.StatusOK, map[string]string{"result": "ok"})
		case errors.Is(err, ErrAuthentication):
			writeJSON(rw, http.StatusOK, vmqNotAllowed)
		default:
			http.Error(rw, "verifier unavailable", http.StatusServiceUnavailable)
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
		http.Error(rw, "verifier unavailable", http.StatusServiceUnavailable)
		return
	}
	if p == nil {
		writeJSON(rw, http.StatusOK, vmqNotAllowed)
		return
	}
	switch hook {
	case "auth_on_publish", "auth_on_publish_m5":
		if p.CanPublish(req.Topic) != nil {
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
			if p.CanSubscribe(t.Topic) != nil {
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
