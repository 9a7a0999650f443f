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
	var email, hash string
	if err := p.db.QueryRowContext(ctx, `SELECT email, password_hash FROM users WHERE id = ?`, user).Scan(&email, &hash); err != nil {
		return nil, err
	}
	if left, err := p.passwordLockedFor(ctx, email); err != nil {
		return nil, err
	} else if left > 0 {
		return nil, throttledError(left)
	}
	if err := p.passwordMatches(ctx, email, user, hash, password, "recovery codes"); err != nil {
		return nil, err
	}
	codes, err := p.totp.RecoveryCodes(ctx, user)
	if err != nil {
		return nil, err
	}
	p.audit.Info("recovery codes made", "user", user)
	return codes, nil
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
