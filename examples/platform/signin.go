package platform

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/totp"
)

// Sign-in is two steps: the password gives a challenge (a random one-use
// id valid for challengeTTL), and the challenge with a TOTP code gives a
// session token. The code is asked for only after the password, as package
// totp asks of its callers.
const (
	challengeTTL = 5 * time.Minute
	// enrollmentTimeout is how long the key given at sign-up can be
	// confirmed (totp.Config.EnrollmentTimeout); after it, signing in
	// with the password gives a new one.
	enrollmentTimeout = 15 * time.Minute
	challengeTries    = 3
	sessionTTL        = 12 * time.Hour
	// maxPendingSignIn caps the challenges kept in memory, and
	// maxPendingPerAccount those of one account: a new challenge past it
	// replaces the account's oldest, so that one account (whose password
	// an attacker has, or who is the attacker) cannot fill the pool that
	// everyone shares, and a person who retries is never refused for
	// their own abandoned sign-ins. The replaced challenge stops working.
	maxPendingSignIn     = 10000
	maxPendingPerAccount = 5
)

// accounts signs people up and in (password, then a TOTP code or a
// recovery code), throttles their passwords and changes their second
// factor. A completed sign-in gets a session from tokens.
type accounts struct {
	base
	tokens    *tokens
	totp      *totp.Authenticator
	totpStore totp.Store
	hashing   *hashing // the memory budget of password hashing

	mu         sync.Mutex
	challenges map[string]challenge // pending sign-ins, by hashed id
}

// newAccounts makes the accounts service: TOTP records in store, named
// name in authenticator apps, their secrets encrypted under a key derived
// from master; password hashing within hashingMemory bytes.
func newAccounts(b base, tk *tokens, store totp.Store, name string, master []byte, hashingMemory int64) (*accounts, error) {
	// TOTP secrets are encrypted under a key derived from the master key.
	// The label is the one of earlier releases ("sealing"), so that the
	// records they stored still decrypt.
	encryptionKey, err := hkdf.Key(sha256.New, master, nil, "latch-example platform/v1 totp sealing", 32)
	if err != nil {
		return nil, err
	}
	ac := &accounts{base: b, tokens: tk, totpStore: store, challenges: map[string]challenge{},
		hashing: &hashing{budget: max(hashingMemory>>10, 1)}}
	ac.totp, err = totp.New(totp.Config{
		Issuer:         name,
		Store:          store,
		EncryptionKeys: []totp.EncryptionKey{{ID: "master-v1", Key: encryptionKey}},
		Now:            ac.now,

		EnrollmentTimeout: enrollmentTimeout,
	})
	if err != nil {
		return nil, err
	}
	return ac, nil
}

type challenge struct {
	user    string
	expires time.Time
	tries   int
}

// userError is a refusal to show the person: an HTTP status, an OAuth-style
// code and a sentence.
type userError struct {
	status      int
	code, words string
}

func (e *userError) Error() string { return e.words }

var (
	errBadEmail    = &userError{http.StatusBadRequest, "invalid_request", "That is not an email address."}
	errBadPassword = &userError{http.StatusBadRequest, "invalid_request", "The password must be 10 to 1024 bytes long."}
	// errTaken tells whoever signs up that the address has an account:
	// a deliberate choice, see "Who has an account" in doc.go.
	errTaken               = &userError{http.StatusConflict, "conflict", "An account with this email exists: sign in instead."}
	errCredentials         = &userError{http.StatusUnauthorized, "invalid_credentials", "Wrong email or password."}
	errBusy                = &userError{http.StatusServiceUnavailable, "temporarily_unavailable", "Too many sign-ins in progress; try again."}
	errChallenge           = &userError{http.StatusUnauthorized, "invalid_challenge", "Sign in with your password again."}
	errCodeNotAccepted     = &userError{http.StatusUnauthorized, "invalid_code", "The code was not accepted."}
	errSecondFactorMissing = &userError{http.StatusForbidden, "second_factor_missing",
		"Your authenticator app cannot be checked right now; contact support."}
)

// writeUserError answers a JSON route with err if it is a *userError, and
// with an internal error otherwise.
func (b *base) writeUserError(w http.ResponseWriter, r *http.Request, err error) {
	var ue *userError
	if errors.As(err, &ue) {
		setRetryAfter(w, err)
		writeError(w, ue.status, ue.code, ue.words)
		return
	}
	b.internalError(w, r, err)
}

// setRetryAfter sets Retry-After if err says when to try again.
func setRetryAfter(w http.ResponseWriter, err error) {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.Itoa(int((ra.after+time.Second-1)/time.Second)))
	}
}

// dummyHash is checked against when the email is unknown, so that an
// unknown email costs the same time as a wrong password.
var dummyHash = hashPassword("not a password anyone has")

// createUser makes an account with a TOTP enrollment to confirm at the
// first sign-in.
func (ac *accounts) createUser(ctx context.Context, email, password string) (*api.SignUpResponse, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || !strings.Contains(email, "@") {
		return nil, errBadEmail
	}
	if len(password) < minPasswordLen || len(password) > maxPasswordLen {
		return nil, errBadPassword
	}
	hash, err := ac.hashPassword(password)
	if err != nil {
		return nil, err
	}
	user := newID("u_")
	_, err = ac.db.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, created) VALUES (?, ?, ?, ?)`,
		user, email, hash, ac.now().Unix())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return nil, errTaken
		}
		return nil, err
	}
	resp, err := ac.enroll(ctx, user, email)
	if err != nil {
		return nil, err
	}
	ac.audit.Info("signed up", "user", user)
	return resp, nil
}

// enroll gives user a new TOTP key, pending until their first code, and
// returns it to show once.
func (ac *accounts) enroll(ctx context.Context, user, email string) (*api.SignUpResponse, error) {
	key, err := ac.totp.Enroll(ctx, user, email)
	if err != nil {
		return nil, err
	}
	return keyResponse(user, key)
}

// keyResponse is a TOTP key to show the person, once.
func keyResponse(user string, key totp.Key) (*api.SignUpResponse, error) {
	png, err := key.QRCode(256)
	if err != nil {
		return nil, err
	}
	return &api.SignUpResponse{UserID: user, OTPAuthURI: key.URI(), QRCodePNG: png}, nil
}

func (ac *accounts) signUp(w http.ResponseWriter, r *http.Request) {
	var req api.SignUpRequest
	if !readJSON(w, r, &req) {
		return
	}
	resp, err := ac.createUser(r.Context(), req.Email, req.Password)
	if err != nil {
		ac.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// checkPasswordStep checks the password and returns a new challenge for
// the code step, with a new TOTP key if the one from sign-up expired
// unconfirmed.
func (ac *accounts) checkPasswordStep(ctx context.Context, email, password string) (*api.SignInResponse, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		return nil, errCredentials
	}
	// A cheap look first, so that attempts at a locked address take no
	// share of the hashing budget; reservePassword decides.
	if left, err := ac.passwordLockedFor(ctx, email); err != nil {
		return nil, err
	} else if left > 0 {
		ac.audit.Warn("sign-in refused", "step", "password", "reason", "locked")
		return nil, throttledError(left)
	}
	var user, hash string
	err := ac.db.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE email = ?`, email).Scan(&user, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		hash = dummyHash
	} else if err != nil {
		return nil, err
	}
	if err := ac.passwordMatches(ctx, email, user, hash, password, "sign-in"); err != nil {
		return nil, err
	}
	enroll, err := ac.renewEnrollment(ctx, user, email)
	if err != nil {
		return nil, err
	}
	id, err := ac.newChallenge(user)
	if err != nil {
		return nil, err
	}
	return &api.SignInResponse{Challenge: id, Next: "totp", Enroll: enroll}, nil
}

// passwordMatches checks password against hash, the password hash of the
// account user ("" for an unknown address, whose hash is dummyHash). The
// attempt is counted against the address before the hash is computed (see
// throttle.go), and the hash is computed within the hashing budget
// (errHashingBusy past it, the attempt not counted). what names the step in
// the audit log. It returns nil for the right password, else a *userError.
func (ac *accounts) passwordMatches(ctx context.Context, email, user, hash, password, what string) error {
	h, err := parsePasswordHash(hash)
	if err != nil {
		return err
	}
	release, err := ac.hashing.acquire(h.memory)
	if err != nil {
		ac.audit.Warn(what+" refused", "step", "password", "reason", "hashing busy")
		return err
	}
	defer release()
	if err := ac.reservePassword(ctx, email, what); err != nil {
		return err
	}
	ok := false
	if len(password) <= maxPasswordLen {
		ac.hashing.run(func() { ok = h.matches(password) })
	}
	if !ok || user == "" {
		ac.audit.Warn(what+" refused", "step", "password", "user", user)
		return errCredentials
	}
	return ac.passwordSucceeded(ctx, email)
}

// renewEnrollment gives a person whose TOTP enrollment expired before its
// first code (or whose pending record is gone) a new key; nil if the
// enrollment is confirmed or still pending. Only the password vouches for
// them then, as at sign-up.
func (ac *accounts) renewEnrollment(ctx context.Context, user, email string) (*api.SignUpResponse, error) {
	rec, err := ac.totpStore.Load(ctx, user)
	switch {
	case errors.Is(err, totp.ErrNotEnrolled):
		// No record at all: the store lost it, or let a pending one
		// expire (totp/redisstore does after a day). Someone who has
		// signed in before had a confirmed enrollment: the password alone
		// must not set up a new one.
		var signedIn bool
		if err := ac.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM tokens WHERE subject = ?)`, user).Scan(&signedIn); err != nil {
			return nil, err
		}
		if signedIn {
			ac.audit.Error("second factor missing", "user", user)
			return nil, errSecondFactorMissing
		}
	case err != nil:
		return nil, err
	case rec.Confirmed || ac.now().Before(rec.Enrolled.Add(enrollmentTimeout)):
		return nil, nil
	}
	resp, err := ac.enroll(ctx, user, email)
	if err != nil {
		return nil, err
	}
	ac.audit.Info("enrollment renewed", "user", user)
	return resp, nil
}

func (ac *accounts) newChallenge(user string) (string, error) {
	id := newID("c_")
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.now()
	var oldest string
	mine := 0
	for k, c := range ac.challenges {
		switch {
		case now.After(c.expires):
			delete(ac.challenges, k)
		case c.user == user:
			mine++
			if oldest == "" || c.expires.Before(ac.challenges[oldest].expires) {
				oldest = k
			}
		}
	}
	if mine >= maxPendingPerAccount {
		delete(ac.challenges, oldest)
	} else if len(ac.challenges) >= maxPendingSignIn {
		return "", errBusy
	}
	ac.challenges[challengeKey(id)] = challenge{user: user, expires: now.Add(challengeTTL)}
	return id, nil
}

func (ac *accounts) signIn(w http.ResponseWriter, r *http.Request) {
	var req api.SignUpRequest
	if !readJSON(w, r, &req) {
		return
	}
	resp, err := ac.checkPasswordStep(r.Context(), req.Email, req.Password)
	if err != nil {
		ac.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// challengeKey is how a challenge is kept: hashed, so that a memory dump
// of pending sign-ins gives nothing to replay.
func challengeKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// checkCodeStep completes a sign-in: the challenge and a TOTP code (or,
// if recovery, one of the person's recovery codes) give a session token.
func (ac *accounts) checkCodeStep(ctx context.Context, challengeID, code string, recovery bool) (*api.SessionResponse, error) {
	key := challengeKey(challengeID)
	ac.mu.Lock()
	c, ok := ac.challenges[key]
	if ok && ac.now().After(c.expires) {
		delete(ac.challenges, key)
		ok = false
	}
	ac.mu.Unlock()
	if !ok {
		return nil, errChallenge
	}
	var err error
	if recovery {
		err = ac.totp.VerifyRecoveryCode(ctx, c.user, code)
	} else {
		err = ac.checkCode(ctx, c.user, code)
	}
	ac.mu.Lock()
	if err == nil || c.tries+1 >= challengeTries {
		delete(ac.challenges, key)
	} else {
		c.tries++
		ac.challenges[key] = c
	}
	ac.mu.Unlock()
	if err != nil {
		var refused *totp.RefusedError
		if errors.As(err, &refused) && errors.Is(err, totp.ErrThrottled) {
			ac.audit.Warn("account locked", "user", c.user, "until", refused.RetryAfter)
		}
		step := "totp"
		if recovery {
			step = "recovery code"
		}
		ac.audit.Warn("sign-in refused", "step", step, "user", c.user, "reason", err.Error())
		return nil, errCodeNotAccepted
	}
	if recovery {
		// The person should hear of it: a recovery code used by someone
		// else means the password and a code sheet have leaked.
		ac.audit.Warn("recovery code used", "user", c.user)
	}
	resp, err := ac.tokens.issue(ctx, c.user, "session", PersonScopes, nil, ac.now().Add(sessionTTL))
	if err != nil {
		return nil, err
	}
	// What makes it a session: the time of its second factor, which lets
	// it change the second factor for stepUpWindow without another code.
	if _, err := ac.db.ExecContext(ctx, `UPDATE tokens SET second_factor = ? WHERE id = ?`, ac.now().Unix(), resp.TokenID); err != nil {
		return nil, err
	}
	ac.audit.Info("signed in", "user", c.user, "token_id", resp.TokenID)
	return resp, nil
}

// signInCode answers the code step of sign-in: POST /v1/signin/totp with a
// TOTP code, POST /v1/signin/recovery with a recovery code.
func (ac *accounts) signInCode(recovery bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req api.SignInCodeRequest
		if !readJSON(w, r, &req) {
			return
		}
		resp, err := ac.checkCodeStep(r.Context(), req.Challenge, req.Code, recovery)
		if err != nil {
			ac.writeUserError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// checkCode confirms the enrollment with the person's first code, and
// verifies codes after that.
func (ac *accounts) checkCode(ctx context.Context, user, code string) error {
	rec, err := ac.totpStore.Load(ctx, user)
	if err != nil {
		return err
	}
	if !rec.Confirmed {
		return ac.totp.Confirm(ctx, user, code)
	}
	return ac.totp.Verify(ctx, user, code)
}
