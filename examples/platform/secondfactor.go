package platform

import (
	"context"
	"net/http"
)

// RecoveryCodesResponse is the answer to POST /v1/recovery-codes: ten
// single-use codes, each of which signs in once in place of a TOTP code
// (POST /v1/signin/recovery). They are shown once; the platform keeps only
// their hashes, and a new set replaces the old one.
type RecoveryCodesResponse struct {
	Codes []string `json:"codes"`
}

// newRecoveryCodes makes a new set of recovery codes for user, after
// asking for the password again (package totp asks it of its callers): a
// stolen session alone cannot mint a way past the second factor. A wrong
// password counts against the address like one at sign-in.
func (p *Platform) newRecoveryCodes(ctx context.Context, user, password string) ([]string, error) {
	if _, err := p.passwordAgain(ctx, user, password, "recovery codes"); err != nil {
		return nil, err
	}
	codes, err := p.totp.RecoveryCodes(ctx, user)
	if err != nil {
		return nil, err
	}
	p.audit.Info("recovery codes made", "user", user)
	return codes, nil
}

// passwordAgain checks the signed-in person's password once more before
// what (for the audit log) changes their second factor, and returns their
// email. It is throttled with sign-in's wrong passwords.
func (p *Platform) passwordAgain(ctx context.Context, user, password, what string) (string, error) {
	var email, hash string
	if err := p.db.QueryRowContext(ctx, `SELECT email, password_hash FROM users WHERE id = ?`, user).Scan(&email, &hash); err != nil {
		return "", err
	}
	return email, p.passwordMatches(ctx, email, user, hash, password, what)
}

func (p *Platform) recoveryCodes(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	codes, err := p.newRecoveryCodes(r.Context(), claims(r).Subject, req.Password)
	if err != nil {
		p.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RecoveryCodesResponse{Codes: codes})
}

// Replacing the authenticator app (a new phone): POST /v1/totp/reenroll
// with the password gives a new key, which replaces the old one only once
// POST /v1/totp/reenroll/confirm gets one of its codes (totp.Reenroll);
// until then the old app keeps signing in.

// reenroll gives user a new TOTP key waiting for confirmation, after the
// password.
func (p *Platform) reenroll(ctx context.Context, user, password string) (*SignUpResponse, error) {
	email, err := p.passwordAgain(ctx, user, password, "authenticator replacement")
	if err != nil {
		return nil, err
	}
	key, err := p.totp.Reenroll(ctx, user, email)
	if err != nil {
		return nil, err
	}
	p.audit.Info("authenticator replacement started", "user", user)
	return keyResponse(user, key)
}

// confirmReenroll completes the replacement with a code of the new key.
func (p *Platform) confirmReenroll(ctx context.Context, user, code string) error {
	if err := p.totp.ConfirmReenroll(ctx, user, code); err != nil {
		p.audit.Warn("authenticator replacement refused", "user", user, "reason", err.Error())
		return errCodeNotAccepted
	}
	p.audit.Info("authenticator replaced", "user", user)
	return nil
}

func (p *Platform) reenrollRoute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	resp, err := p.reenroll(r.Context(), claims(r).Subject, req.Password)
	if err != nil {
		p.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (p *Platform) confirmReenrollRoute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if err := p.confirmReenroll(r.Context(), claims(r).Subject, req.Code); err != nil {
		p.writeUserError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
