package platform

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/latchsec/latch/token"
	"github.com/latchsec/latch/totp"
)

// Sign-in is two steps: the password gives a challenge (a random one-use
// id valid for challengeTTL), and the challenge with a TOTP code gives a
// session token. The code is asked for only after the password, as package
// totp asks of its callers.
const (
	challengeTTL     = 5 * time.Minute
	challengeTries   = 3
	sessionTTL       = 12 * time.Hour
	maxPendingSignIn = 10000
)

type challenge struct {
	user    string
	expires time.Time
	tries   int
}

// dummyHash is checked against when the email is unknown, so that an
// unknown email costs the same time as a wrong password.
var dummyHash = hashPassword("not a password anyone has")

type signUpRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SignUpResponse is the answer to POST /v1/signup: the TOTP key to add to
// an authenticator app, as a URI and as a QR code (PNG). It is shown once.
type SignUpResponse struct {
	UserID     string `json:"userId"`
	OTPAuthURI string `json:"otpauthUri"`
	QRCodePNG  []byte `json:"qrCodePng"`
}

func (p *Platform) signUp(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	if !readJSON(w, r, &req) {
		return
	}
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	if len(req.Email) > 254 || !strings.Contains(req.Email, "@") {
		writeError(w, http.StatusBadRequest, "invalid_request", "email is not an email address")
		return
	}
	if len(req.Password) < minPasswordLen || len(req.Password) > maxPasswordLen {
		writeError(w, http.StatusBadRequest, "invalid_request", "the password must be 10 to 1024 bytes")
		return
	}
	user := newID("u_")
	_, err := p.db.ExecContext(r.Context(), `INSERT INTO users (id, email, password_hash, created) VALUES (?, ?, ?, ?)`,
		user, req.Email, hashPassword(req.Password), p.now().Unix())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			writeError(w, http.StatusConflict, "conflict", "an account with this email exists")
			return
		}
		p.internalError(w, r, err)
		return
	}
	key, err := p.totp.Enroll(r.Context(), user, req.Email)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	png, err := key.QRCode(256)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	p.audit.Info("signed up", "user", user)
	writeJSON(w, http.StatusCreated, SignUpResponse{UserID: user, OTPAuthURI: key.URI(), QRCodePNG: png})
}

func (p *Platform) signIn(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	if !readJSON(w, r, &req) {
		return
	}
	if len(req.Password) > maxPasswordLen {
		writeError(w, http.StatusUnauthorized, "invalid_credentials", "wrong email or password")
		return
	}
	var user, hash string
	err := p.db.QueryRowContext(r.Context(), `SELECT id, password_hash FROM users WHERE email = ?`,
		strings.ToLower(strings.TrimSpace(req.Email))).Scan(&user, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		hash = dummyHash
	} else if err != nil {
		p.internalError(w, r, err)
		return
	}
	ok, err := checkPassword(hash, req.Password)
	if err != nil || !ok || user == "" {
		p.audit.Warn("sign-in refused", "step", "password", "user", user)
		writeError(w, http.StatusUnauthorized, "invalid_credentials", "wrong email or password")
		return
	}
	id := newID("c_")
	p.mu.Lock()
	now := p.now()
	for k, c := range p.challenges {
		if now.After(c.expires) {
			delete(p.challenges, k)
		}
	}
	full := len(p.challenges) >= maxPendingSignIn
	if !full {
		p.challenges[challengeKey(id)] = challenge{user: user, expires: now.Add(challengeTTL)}
	}
	p.mu.Unlock()
	if full {
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "too many sign-ins in progress")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"challenge": id, "next": "totp"})
}

// challengeKey is how a challenge is kept: hashed, so that a memory dump
// of pending sign-ins gives nothing to replay.
func challengeKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

type totpRequest struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// SessionResponse is the answer to a completed sign-in.
type SessionResponse struct {
	Token   string    `json:"token"`
	TokenID string    `json:"tokenId"`
	Scopes  []string  `json:"scopes"`
	Expires time.Time `json:"expires"`
}

func (p *Platform) signInTOTP(w http.ResponseWriter, r *http.Request) {
	var req totpRequest
	if !readJSON(w, r, &req) {
		return
	}
	key := challengeKey(req.Challenge)
	p.mu.Lock()
	c, ok := p.challenges[key]
	if ok && p.now().After(c.expires) {
		delete(p.challenges, key)
		ok = false
	}
	p.mu.Unlock()
	if !ok {
		writeError(w, http.StatusUnauthorized, "invalid_challenge", "sign in with your password again")
		return
	}
	ctx := r.Context()
	err := p.checkCode(ctx, c.user, req.Code)
	p.mu.Lock()
	if err == nil {
		delete(p.challenges, key)
	} else if c.tries+1 >= challengeTries {
		delete(p.challenges, key)
	} else {
		c.tries++
		p.challenges[key] = c
	}
	p.mu.Unlock()
	if err != nil {
		var refused *totp.RefusedError
		if errors.As(err, &refused) && errors.Is(err, totp.ErrThrottled) {
			p.audit.Warn("account locked", "user", c.user, "until", refused.RetryAfter)
		}
		p.audit.Warn("sign-in refused", "step", "totp", "user", c.user, "reason", err.Error())
		writeError(w, http.StatusUnauthorized, "invalid_code", totp.ErrRefused.Error())
		return
	}
	resp, err := p.issue(ctx, c.user, "session", PersonScopes, nil, p.now().Add(sessionTTL))
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	p.audit.Info("signed in", "user", c.user, "token_id", resp.TokenID)
	writeJSON(w, http.StatusOK, resp)
}

// checkCode confirms the enrollment with the person's first code, and
// verifies codes after that.
func (p *Platform) checkCode(ctx context.Context, user, code string) error {
	rec, err := totpStore{p.db}.Load(ctx, user)
	if err != nil {
		return err
	}
	if !rec.Confirmed {
		return p.totp.Confirm(ctx, user, code)
	}
	return p.totp.Verify(ctx, user, code)
}

// issue makes a token and records its metadata (never the token).
func (p *Platform) issue(ctx context.Context, subject, name string, scopes, apps []string, exp time.Time) (*SessionResponse, error) {
	tok, err := p.issuer.Issue(ctx, token.Claims{Subject: subject, Scopes: scopes, Apps: apps, Expires: exp})
	if err != nil {
		return nil, err
	}
	c, err := p.api.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	if err := p.record(ctx, c, name); err != nil {
		return nil, err
	}
	return &SessionResponse{Token: tok, TokenID: c.ID, Scopes: c.Scopes, Expires: c.Expires}, nil
}

func (p *Platform) record(ctx context.Context, c *token.Claims, name string) error {
	_, err := p.db.ExecContext(ctx, `INSERT INTO tokens (id, subject, name, scopes, apps, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Subject, name, strings.Join(c.Scopes, " "), strings.Join(c.Apps, " "), c.IssuedAt.Unix(), unixOf(c.Expires))
	return err
}
