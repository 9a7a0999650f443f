// Package integrator is the example third party: "Acme Doors", whose HTTPS
// API on the local network opens doors. It shows the integrator's side of
// Latch:
//
//   - Its API has a self-signed certificate ([tlspolicy.GenerateSelfSigned]);
//     it registers its request with that certificate included, so the
//     device calls it at TlsPinnedCertificate with the leaf pinned.
//   - Its OAuth 2.0 token endpoint gives the device access tokens for a
//     refresh token and rotates the refresh token at each use (RFC 6749 §6,
//     OAuth 2.0 Security BCP §4.14); a rotated-away refresh token used
//     again ends the whole grant, as it signals a stolen token.
//   - It gets its own access to the platform with the OAuth 2.0
//     client-credentials grant, through golang.org/x/oauth2/clientcredentials,
//     and posts its request definition to the integration the person
//     switched on. The platform seals it on arrival.
//   - Or it signs and seals the definition itself ([Server.LinkSigned]),
//     with the signing key whose verifying key it publishes at
//     https://<its host>/.well-known/latch-integrator-keys: the platform
//     stores the envelope and never sees the definition, and the person's
//     app accepts only what Acme signed.
//
// Start it with [Start]; [Server.Link] is what happens when a person links
// their Acme account to a Latch integration.
package integrator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// AccessTokenTTL is how long Acme's access tokens live.
const AccessTokenTTL = 10 * time.Minute

// Config configures Acme. PlatformURL, PlatformRoots, ClientID and
// ClientSecret are required.
type Config struct {
	// PlatformURL is the Latch platform's base URL and PlatformRoots the
	// roots its certificate chains to.
	PlatformURL   string
	PlatformRoots *x509.CertPool
	// ClientID and ClientSecret are Acme's OAuth 2.0 client at the
	// platform (from platform.RegisterIntegrator).
	ClientID, ClientSecret string
	// Log receives Acme's own events; nil discards them.
	Log *slog.Logger
	// Now returns the current time; time.Now by default.
	Now func() time.Time
}

// Call is one call the API answered, for the narration and tests: what was
// asked and whether it was allowed, never a credential.
type Call struct {
	Path       string
	StatusCode int
}

// Server is a running Acme.
type Server struct {
	// URL is the base URL of Acme's API and token endpoint.
	URL string
	// CertPEM is the API's self-signed certificate, which devices pin.
	CertPEM string
	// Host is the host (and port) of Acme's API, where it publishes its
	// key set for signed requests.
	Host string

	cfg     Config
	log     *slog.Logger
	srv     *http.Server
	done    chan struct{}
	device  struct{ id, secret string } // the OAuth client the devices use
	signer  *sealedbox.SigningKey       // signs Acme's requests; never leaves Acme
	keySet  []byte                      // its published key set
	mu      sync.Mutex
	grants  map[string]*grant  // by hash of the current refresh token
	retired map[string]*grant  // by hash of rotated-away refresh tokens
	access  map[string]*access // by hash of access token
	callCh  chan Call
}

type grant struct {
	door    string
	revoked bool
}

type access struct {
	g       *grant
	expires time.Time
}

// Start starts Acme's HTTPS server on a free loopback port.
func Start(cfg Config) (*Server, error) {
	if cfg.PlatformURL == "" || cfg.PlatformRoots == nil || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("integrator: PlatformURL, PlatformRoots, ClientID and ClientSecret are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Log, done: make(chan struct{}),
		grants: map[string]*grant{}, retired: map[string]*grant{}, access: map[string]*access{},
		callCh: make(chan Call, 64)}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.device.id, s.device.secret = "acme-door-firmware", randomString("acs_")

	now := cfg.Now()
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"acme-doors.local", "127.0.0.1"}, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.URL, s.CertPEM, s.Host = "https://"+ln.Addr().String(), string(certPEM), ln.Addr().String()
	if s.signer, err = sealedbox.GenerateSigningKey(); err != nil {
		return nil, err
	}
	s.keySet, err = integrator.MarshalKeySet([]integrator.PublishedKey{{Key: s.signer.VerifyingKey(), NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+integrator.KeySetPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.keySet)
	})
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /v1/doors/{door}/open", s.openDoor)
	s.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.done)
		s.srv.ServeTLS(ln, "", "")
	}()
	return s, nil
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// Calls returns a channel that receives every call the door API answered.
func (s *Server) Calls() <-chan Call { return s.callCh }

// Link is what happens when a person links their Acme account to the
// Latch integration integrationID for door: Acme makes a grant with a
// refresh token for the person's device, gets a platform token with
// client credentials, and posts the request definition that opens the
// door, with its certificate to pin. It returns the request's id at the
// platform and the definition Acme sent. The definition holds the refresh
// token and the device's client secret: that is why the platform must only
// ever store it sealed.
func (s *Server) Link(ctx context.Context, integrationID, door string) (requestID string, definition []byte, err error) {
	body, err := json.Marshal(s.grantDefinition(door, `{"reason":"arrival"}`))
	if err != nil {
		return "", nil, err
	}
	client := s.platformClient(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		s.cfg.PlatformURL+"/v1/integrations/"+url.PathEscape(integrationID)+"/requests", bytes.NewReader(body))
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("integrator: posting the request definition: %w", err)
	}
	defer resp.Body.Close()
	var out api.IDResponse
	if resp.StatusCode != http.StatusCreated {
		return "", nil, fmt.Errorf("integrator: the platform answered %s to the request definition", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return "", nil, err
	}
	s.log.Info("request registered", "integration", integrationID, "request", out.ID)
	return out.ID, body, nil
}

// grantDefinition makes a grant for door with a new refresh token and
// returns the request definition that opens the door with it.
func (s *Server) grantDefinition(door, body string) integrator.Request {
	rt := randomString("art_")
	s.mu.Lock()
	s.grants[hash(rt)] = &grant{door: door}
	s.mu.Unlock()
	return integrator.Request{
		Method:            http.MethodPost,
		URL:               s.URL + "/v1/doors/" + url.PathEscape(door) + "/open",
		Headers:           []integrator.Header{{Name: "Content-Type", Value: "application/json"}},
		Body:              body,
		SecurityLevel:     tlspolicy.TlsPinnedCertificate,
		PinnedCertificate: s.CertPEM,
		Authorization: integrator.Authorization{
			Type:         "OAuthRefreshToken",
			RefreshToken: rt,
			TokenURL:     s.URL + "/oauth/token",
			ClientID:     s.device.id,
			ClientSecret: s.device.secret,
			Scopes:       []string{"doors"},
		},
	}
}

// platformClient is Acme's own access to the platform: client
// credentials, asking only for the scope it needs, over a client that
// trusts the platform's roots only.
func (s *Server) platformClient(ctx context.Context) *http.Client {
	platformClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.cfg.PlatformRoots, MinVersion: tls.VersionTLS12},
	}}
	cc := clientcredentials.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		TokenURL:     s.cfg.PlatformURL + "/oauth/token",
		Scopes:       []string{api.ScopeRequestsWrite},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	return cc.Client(context.WithValue(ctx, oauth2.HTTPClient, platformClient))
}

// LinkSigned is [Server.Link] with client-side sealing: Acme makes the
// grant and the definition (with reason in its body), gets the
// integration's public key from the platform, signs and seals the
// statement (the definition, integrationID, requestID and version) with
// integrator.Statement.Seal, and stores the envelope as request requestID.
// Calling it again with a higher version replaces the request with a new
// definition. It returns the definition and the envelope it stored.
func (s *Server) LinkSigned(ctx context.Context, integrationID, requestID, door, reason string, version uint64) (definition, envelope []byte, err error) {
	body, err := json.Marshal(map[string]string{"reason": reason})
	if err != nil {
		return nil, nil, err
	}
	def := s.grantDefinition(door, string(body))
	client := s.platformClient(ctx)
	base := s.cfg.PlatformURL + "/v1/integrations/" + url.PathEscape(integrationID)
	var key api.PublicKeyResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/public-key", nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("integrator: getting the integration's public key: %w", err)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&key)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		return nil, nil, fmt.Errorf("integrator: the platform answered %s for the public key", resp.Status)
	}
	pub, err := sealedbox.ParsePublicKey(key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	statement := &integrator.Statement{IntegrationID: integrationID, RequestID: requestID, Version: version, Definition: &def}
	envelope, err = statement.Seal(pub, s.signer)
	if err != nil {
		return nil, nil, err
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPut, base+"/requests/"+url.PathEscape(requestID), bytes.NewReader(envelope))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if resp, err = client.Do(req); err != nil {
		return nil, nil, fmt.Errorf("integrator: storing the signed request: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("integrator: the platform answered %s to the signed request", resp.Status)
	}
	s.log.Info("signed request stored", "integration", integrationID, "request", requestID, "version", version)
	definition, err = json.Marshal(def)
	return definition, envelope, err
}

// token is Acme's token endpoint: the refresh-token grant with rotation.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.device.id)) != 1 || subtle.ConstantTimeCompare([]byte(secret), []byte(s.device.secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "refresh_token" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	h := hash(r.PostForm.Get("refresh_token"))
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[h]
	if !ok {
		if old, reused := s.retired[h]; reused {
			// A rotated-away refresh token came back: someone has a copy.
			// End the grant (RFC 9700 §4.14.2).
			old.revoked = true
			s.log.Warn("refresh token reused; grant revoked")
		}
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	if g.revoked {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	delete(s.grants, h)
	s.retired[h] = g
	rt, at := randomString("art_"), randomString("aat_")
	s.grants[hash(rt)] = g
	s.access[hash(at)] = &access{g: g, expires: s.cfg.Now().Add(AccessTokenTTL)}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": int(AccessTokenTTL / time.Second),
		"refresh_token": rt, "scope": "doors",
	})
}

func (s *Server) openDoor(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	var door string
	at, ok := bearer(r)
	s.mu.Lock()
	a := s.access[hash(at)]
	switch {
	case !ok || a == nil || a.g.revoked || !s.cfg.Now().Before(a.expires):
		status = http.StatusUnauthorized
	case a.g.door != r.PathValue("door"):
		status = http.StatusForbidden
	default:
		door = a.g.door
	}
	s.mu.Unlock()
	call := Call{Path: r.URL.Path, StatusCode: status}
	select {
	case s.callCh <- call:
	default:
	}
	if status != http.StatusOK {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	s.log.Info("door opened", "door", door)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"door": door, "state": "open"})
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if len(v) < 7 || !equalFold(v[:7], "Bearer ") {
		return "", false
	}
	return v[7:], true
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// hash is how Acme keeps tokens: hashed, so that its memory (or database)
// holds nothing a thief could use.
func hash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func randomString(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}
