package platform

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/token"
)

// secondFactor changes a signed-in person's second factor: recovery
// codes and a new authenticator app, each after the password (checked and
// throttled by accounts) and the second factor itself.
type secondFactor struct {
	base
	accounts *accounts
}

// Changing the second factor (making recovery codes, replacing the
// authenticator app) asks for more than the token that carries the
// request: the password again, and the second factor itself, as a fresh
// TOTP code, or a session (the token a sign-in gives) whose code or
// recovery code was checked less than stepUpWindow ago. An API token, a
// token narrowed from a session and an older session never stand in for
// the second factor, whatever their scopes: a stolen token and a leaked
// password must not be enough to mint a way past it (recovery codes sign in
// with every scope).
const stepUpWindow = 10 * time.Minute

var errStepUp = &userError{http.StatusForbidden, "step_up_required",
	"Type a code from your authenticator app too."}

// stepUp checks that the holder of c may change the second factor of
// c.Subject (what names the change in the audit log): the password again
// (throttled with sign-in's), then code, a TOTP code accepted once by
// totp, unless code is empty and c is a session whose second factor is
// less than stepUpWindow old. It returns the person's email.
func (sf *secondFactor) stepUp(ctx context.Context, c *token.Claims, password, code, what string) (string, error) {
	email, err := sf.passwordAgain(ctx, c.Subject, password, what)
	if err != nil {
		return "", err
	}
	if code != "" {
		if err := sf.accounts.totp.Verify(ctx, c.Subject, code); err != nil {
			sf.audit.Warn(what+" refused", "step", "totp", "user", c.Subject, "reason", err.Error())
			return "", errCodeNotAccepted
		}
		return email, nil
	}
	var at int64
	err = sf.db.QueryRowContext(ctx, `SELECT second_factor FROM tokens WHERE id = ? AND subject = ?`, c.ID, c.Subject).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if at == 0 || sf.now().Sub(time.Unix(at, 0)) > stepUpWindow {
		sf.audit.Warn(what+" refused", "step", "totp", "user", c.Subject, "reason", "no code, and no session with a recent one", "token_id", c.ID)
		return "", errStepUp
	}
	return email, nil
}

// newRecoveryCodes makes a new set of recovery codes for the holder of c,
// after the password and the second factor (stepUp).
func (sf *secondFactor) newRecoveryCodes(ctx context.Context, c *token.Claims, password, code string) ([]string, error) {
	if _, err := sf.stepUp(ctx, c, password, code, "recovery codes"); err != nil {
		return nil, err
	}
	codes, err := sf.accounts.totp.RecoveryCodes(ctx, c.Subject)
	if err != nil {
		return nil, err
	}
	sf.audit.Info("recovery codes made", "user", c.Subject, "by_token", c.ID)
	return codes, nil
}

// passwordAgain checks the signed-in person's password once more before
// what (for the audit log) changes their second factor, and returns their
// email. It is throttled with sign-in's wrong passwords.
func (sf *secondFactor) passwordAgain(ctx context.Context, user, password, what string) (string, error) {
	var email, hash string
	if err := sf.db.QueryRowContext(ctx, `SELECT email, password_hash FROM users WHERE id = ?`, user).Scan(&email, &hash); err != nil {
		return "", err
	}
	return email, sf.accounts.passwordMatches(ctx, email, user, hash, password, what)
}

func (sf *secondFactor) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	var req api.StepUpRequest
	if !readJSON(w, r, &req) {
		return
	}
	codes, err := sf.newRecoveryCodes(r.Context(), claims(r), req.Password, req.Code)
	if err != nil {
		sf.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RecoveryCodesResponse{Codes: codes})
}

// Replacing the authenticator app (a new phone): POST /v1/totp/reenroll
// with the password and the second factor (stepUp) gives a new key, which replaces the old one only once
// POST /v1/totp/reenroll/confirm gets one of its codes (totp.Reenroll);
// until then the old app keeps signing in.

// reenroll gives the holder of c a new TOTP key waiting for confirmation,
// after the password and the second factor (stepUp). Someone who lost the
// old app signs in with a recovery code and does this within stepUpWindow.
func (sf *secondFactor) reenroll(ctx context.Context, c *token.Claims, password, code string) (*api.SignUpResponse, error) {
	email, err := sf.stepUp(ctx, c, password, code, "authenticator replacement")
	if err != nil {
		return nil, err
	}
	key, err := sf.accounts.totp.Reenroll(ctx, c.Subject, email)
	if err != nil {
		return nil, err
	}
	sf.audit.Info("authenticator replacement started", "user", c.Subject, "by_token", c.ID)
	return keyResponse(c.Subject, key)
}

// confirmReenroll completes the replacement with a code of the new key.
func (sf *secondFactor) confirmReenroll(ctx context.Context, user, code string) error {
	if err := sf.accounts.totp.ConfirmReenroll(ctx, user, code); err != nil {
		sf.audit.Warn("authenticator replacement refused", "user", user, "reason", err.Error())
		return errCodeNotAccepted
	}
	sf.audit.Info("authenticator replaced", "user", user)
	return nil
}

func (sf *secondFactor) reenrollRoute(w http.ResponseWriter, r *http.Request) {
	var req api.StepUpRequest
	if !readJSON(w, r, &req) {
		return
	}
	resp, err := sf.reenroll(r.Context(), claims(r), req.Password, req.Code)
	if err != nil {
		sf.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (sf *secondFactor) confirmReenrollRoute(w http.ResponseWriter, r *http.Request) {
	var req api.CodeRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := sf.confirmReenroll(r.Context(), claims(r).Subject, req.Code); err != nil {
		sf.writeUserError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
