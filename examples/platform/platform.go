package platform

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/tlspolicy"
	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/token/redisrevoke"
	"github.com/latchsec/latch/totp"
	"github.com/latchsec/latch/totp/redisstore"
)

// PersonScopes are the scopes of a person's session token; the tokens they
// create have a subset of them.
var PersonScopes = []string{api.ScopeDevicesManage, api.ScopeDevicesRead, api.ScopeIntegrationsManage, api.ScopeTokensManage}

// Token audiences: one per kind of verifier, so that a device secret
// (audienceMQTT) is no API token and the other way round.
const audienceAPI = "api"

// Config configures a platform. StateDir and MasterKey are required.
type Config struct {
	// StateDir holds the SQLite database. It must exist.
	StateDir string
	// MasterKey (32 bytes) encrypts the secrets kept at rest: see the
	// package documentation. The same key must be given at every start.
	MasterKey []byte
	// Addr is the address the HTTPS API listens on, and MQTTAddr the
	// address of the MQTT broker (TLS); "127.0.0.1:0" (a free loopback
	// port) by default.
	Addr, MQTTAddr string
	// Name is the token issuer name and the TOTP issuer shown by
	// authenticator apps; "Latch example" by default.
	Name string
	// Audit receives security events. Nil discards them.
	Audit *slog.Logger
	// Redis, if set, is where the token revocation list
	// (token/redisrevoke) and the TOTP records (totp/redisstore) live, so
	// that several API servers share them. Nil keeps them in this process
	// and its database: right for one machine. One address is a single
	// server; MasterName set is a primary managed by Sentinel (Addrs are
	// the Sentinels); two addresses or more, or IsClusterMode, a Cluster
	// (see redis.NewUniversalClient and ParseRedisAddress). With Sentinel
	// or a Cluster, a revocation or an accepted TOTP code counts only once
	// a replica holds it (redisrevoke.Config.Replicas and
	// redisstore.Store.Replicas set to 1). Give Redis authentication and
	// TLS in production (Password, TLSConfig).
	Redis *redis.UniversalOptions
	// PasswordHashingMemory bounds the memory (bytes) that password
	// hashing may hold at once: argon2id takes PasswordParams.Memory (19
	// MiB) per evaluation, so unbounded parallel sign-ins would take
	// gigabytes. Past it, sign-up, sign-in and the password asked again
	// answer 503 with Retry-After. DefaultPasswordHashingMemory (256 MiB)
	// if zero; at least one evaluation always runs.
	PasswordHashingMemory int64
	// Now returns the current time; time.Now by default. Tests set it.
	Now func() time.Time
}

// Platform is a running platform.
type Platform struct {
	// URL is the base URL of the API, such as "https://127.0.0.1:41234".
	URL string
	// MQTTURL is the broker's address, such as "ssl://127.0.0.1:41235".
	MQTTURL string
	// CertPEM is the platform's TLS certificate (the API's and the
	// broker's). The example makes a
	// self-signed one at each start; clients trust exactly it. A real
	// deployment has a certificate from a CA that clients trust.
	CertPEM []byte

	base         base // the services' database, audit log and clock
	cfg          Config
	keys         *tokenKeys
	tokens       *tokens
	accounts     *accounts
	secondFactor *secondFactor
	integrations *integrations
	oauth        *oauth
	broker       *broker
	devices      *devices
	console      *console
	rdb          redis.UniversalClient // nil without Config.Redis
	revokeList   *redisrevoke.List     // nil without Config.Redis
	srv          *http.Server
	done         chan struct{}
	stop         context.CancelFunc // ends waiting requests at Close
	closeOnce    sync.Once
	closeErr     error
}

// base is what every part of the platform holds: the database, the
// audit log and the clock.
type base struct {
	db    *sql.DB
	audit *slog.Logger
	now   func() time.Time
}

// Start opens the state, starts the HTTPS server and returns once it
// accepts connections. Close stops it.
func Start(ctx context.Context, cfg Config) (*Platform, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("platform: Config.StateDir is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MQTTAddr == "" {
		cfg.MQTTAddr = "127.0.0.1:0"
	}
	if cfg.Name == "" {
		cfg.Name = "Latch example"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PasswordHashingMemory <= 0 {
		cfg.PasswordHashingMemory = DefaultPasswordHashingMemory
	}
	audit := cfg.Audit
	if audit == nil {
		audit = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ar, err := newAtRest(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	db, err := openDB(ctx, cfg.StateDir)
	if err != nil {
		return nil, err
	}
	p := &Platform{base: base{db: db, audit: audit, now: cfg.Now}, cfg: cfg, done: make(chan struct{})}
	if err := p.init(ctx, ar); err != nil {
		p.closeState()
		return nil, err
	}
	if err := p.listen(); err != nil {
		p.closeState()
		return nil, err
	}
	return p, nil
}

// init opens the state shared with other nodes (Redis, if configured) and
// makes the services, each with what it needs of the others.
func (p *Platform) init(ctx context.Context, ar *atRest) error {
	keys, err := loadTokenKeys(ctx, p.base, ar)
	if err != nil {
		return err
	}
	p.keys = keys
	revocations, store, err := p.openShared(ctx)
	if err != nil {
		return err
	}
	name := p.cfg.Name
	api := token.Config{Keys: keys.keys, Issuer: name, Audience: audienceAPI, Prefix: "lt_", Revocations: revocations, Now: p.base.now}
	if p.tokens, err = newTokens(ctx, p.base, api); err != nil {
		return err
	}
	if p.accounts, err = newAccounts(p.base, p.tokens, store, name, p.cfg.MasterKey, p.cfg.PasswordHashingMemory); err != nil {
		return err
	}
	p.secondFactor = &secondFactor{base: p.base, accounts: p.accounts}
	if p.broker, err = newBroker(p.base, api); err != nil {
		return err
	}
	p.devices = &devices{base: p.base, broker: p.broker, revocations: revocations, waiters: map[string][]chan struct{}{}}
	p.integrations = &integrations{base: p.base}
	p.oauth = &oauth{base: p.base, tokens: p.tokens}
	p.console = &console{base: p.base, tokens: p.tokens, accounts: p.accounts, secondFactor: p.secondFactor,
		integrations: p.integrations, devices: p.devices}
	return nil
}

// openShared returns the revocation list and the TOTP store. The
// revocation list: in memory, rebuilt from the database at start, for one
// machine; on Redis, mirrored in memory by every server, for a fleet.
// Either way the database keeps what was revoked, and it is replayed into
// the list at start (revocations only grow; newTokens does it).
func (p *Platform) openShared(ctx context.Context) (token.Revocations, totp.Store, error) {
	if p.cfg.Redis == nil {
		return &token.MemoryRevocations{Now: p.base.now}, totpStore{p.base.db}, nil
	}
	p.rdb = redis.NewUniversalClient(p.cfg.Redis)
	replicas := 0
	if r := p.cfg.Redis; r.MasterName != "" || len(r.Addrs) > 1 || r.IsClusterMode {
		replicas = 1
	}
	list, err := redisrevoke.New(redisrevoke.Config{Client: p.rdb, Replicas: replicas, Now: p.base.now})
	if err != nil {
		return nil, nil, err
	}
	p.revokeList = list
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := list.Sync(sctx); err != nil {
		return nil, nil, fmt.Errorf("platform: revocation list on Redis: %w", err)
	}
	rs := redisstore.New(p.rdb, "")
	rs.Replicas = replicas
	return list, rs, nil
}

func (p *Platform) listen() error {
	now := p.base.now()
	certPEM, keyPEM, err := tlspolicy.GenerateSelfSigned([]string{"127.0.0.1", "localhost"}, now.Add(-time.Hour), now.AddDate(0, 0, 30))
	if err != nil {
		return err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	if err := p.broker.start(p.cfg.MQTTAddr, pair, &stateHook{devices: p.devices}); err != nil {
		return err
	}
	p.MQTTURL = p.broker.url
	ln, err := net.Listen("tcp", p.cfg.Addr)
	if err != nil {
		return fmt.Errorf("platform: listen: %w", err)
	}
	p.CertPEM = certPEM
	p.URL = "https://" + ln.Addr().String()
	base, stop := context.WithCancel(context.Background())
	p.stop = stop
	p.srv = &http.Server{
		BaseContext:       func(net.Listener) context.Context { return base },
		Handler:           p.routes(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(p.base.audit.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(p.done)
		p.srv.ServeTLS(ln, "", "")
	}()
	return nil
}

// Roots returns a pool holding the platform's certificate, for clients.
func (p *Platform) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CertPEM)
	return pool
}

// Close stops the servers, waits for them and closes the state. Calling it
// again does nothing.
func (p *Platform) Close() error {
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.stop()
		err := p.srv.Shutdown(ctx)
		<-p.done
		p.closeErr = errors.Join(err, p.broker.close(), p.closeState())
	})
	return p.closeErr
}

// closeState closes what init opened (and the broker, if listen failed
// after starting it).
func (p *Platform) closeState() error {
	var errs []error
	if p.srv == nil {
		errs = append(errs, p.broker.close())
	}
	if p.revokeList != nil {
		errs = append(errs, p.revokeList.Close())
	}
	if p.rdb != nil {
		errs = append(errs, p.rdb.Close())
	}
	errs = append(errs, p.base.db.Close())
	return errors.Join(errs...)
}

func unixOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
