package platform

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// maxTokenTTL caps what a person may ask for; tokens without expiry are
// not offered by this API.
const maxTokenTTL = 365 * 24 * time.Hour

type createTokenRequest struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Apps      []string `json:"apps,omitempty"`
	ExpiresIn int64    `json:"expiresIn"` // seconds
}

// TokenInfo is what the platform knows of a token: everything but the
// token.
type TokenInfo struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Scopes  []string  `json:"scopes"`
	Apps    []string  `json:"apps,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked bool      `json:"revoked"`
}

func (p *Platform) createToken(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	var req createTokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	ttl := time.Duration(req.ExpiresIn) * time.Second
	if req.Name == "" || len(req.Name) > 100 || len(req.Scopes) == 0 || req.ExpiresIn <= 0 || ttl > maxTokenTTL {
		writeError(w, http.StatusBadRequest, "invalid_request", "name, scopes and expiresIn (up to a year) are required")
		return
	}
	// Least privilege: a person can give a token only scopes their own
	// token has.
	for _, s := range req.Scopes {
		if !c.HasScope(s) {
			writeError(w, http.StatusForbidden, "invalid_scope", "a token cannot have a scope the caller lacks")
			return
		}
	}
	for _, a := range req.Apps {
		if c.CheckApp(a) != nil {
			writeError(w, http.StatusForbidden, "invalid_scope", "a token cannot reach an application the caller cannot")
			return
		}
	}
	if len(c.Apps) > 0 && len(req.Apps) == 0 {
		req.Apps = c.Apps
	}
	// A token outlives the session that made it, as API tokens do; the
	// person revokes it, or signs out everywhere.
	resp, err := p.issue(r.Context(), c.Subject, req.Name, req.Scopes, req.Apps, p.now().Add(ttl))
	if err != nil {
		if strings.Contains(err.Error(), "token: invalid claims") {
			writeError(w, http.StatusBadRequest, "invalid_request", "scopes or apps are malformed")
			return
		}
		p.internalError(w, r, err)
		return
	}
	p.audit.Info("token created", "subject", c.Subject, "token_id", resp.TokenID, "scopes", strings.Join(resp.Scopes, " "), "by_token", c.ID)
	writeJSON(w, http.StatusCreated, resp)
}

func (p *Platform) listTokens(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	rows, err := p.db.QueryContext(r.Context(), `SELECT id, name, scopes, apps, created, expires, revoked FROM tokens WHERE subject = ? ORDER BY created, id`, c.Subject)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	defer rows.Close()
	list := []TokenInfo{}
	for rows.Next() {
		var t TokenInfo
		var scopes, apps string
		var created, expires, revoked int64
		if err := rows.Scan(&t.ID, &t.Name, &scopes, &apps, &created, &expires, &revoked); err != nil {
			p.internalError(w, r, err)
			return
		}
		t.Scopes = strings.Fields(scopes)
		t.Apps = strings.Fields(apps)
		t.Created, t.Expires, t.Revoked = time.Unix(created, 0).UTC(), unixOrZero(expires).UTC(), revoked != 0
		list = append(list, t)
	}
	writeJSON(w, http.StatusOK, list)
}

func (p *Platform) revokeToken(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	id := r.PathValue("id")
	var expires int64
	res, err := p.db.ExecContext(r.Context(), `UPDATE tokens SET revoked = 1 WHERE id = ? AND subject = ?`, id, c.Subject)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no such token")
		return
	}
	if err := p.db.QueryRowContext(r.Context(), `SELECT expires FROM tokens WHERE id = ?`, id).Scan(&expires); err != nil {
		p.internalError(w, r, err)
		return
	}
	if err := p.revocations.RevokeID(r.Context(), id, unixOrZero(expires)); err != nil {
		p.internalError(w, r, err)
		return
	}
	p.audit.Info("token revoked", "subject", c.Subject, "token_id", id, "by_token", c.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (p *Platform) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	if err := p.revokeSubject(r.Context(), c.Subject, p.now()); err != nil {
		p.internalError(w, r, err)
		return
	}
	p.audit.Info("signed out everywhere", "subject", c.Subject, "by_token", c.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (p *Platform) revokeSubject(ctx context.Context, subject string, before time.Time) error {
	_, err := p.db.ExecContext(ctx, `INSERT INTO subject_revocations (subject, before) VALUES (?, ?)
		ON CONFLICT (subject) DO UPDATE SET before = max(before, excluded.before)`, subject, before.Unix())
	if err != nil {
		return err
	}
	return p.revocations.RevokeSubject(ctx, subject, before)
}
