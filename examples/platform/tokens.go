package platform

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/token"
)

// maxTokenTTL caps what a person may ask for; tokens without expiry are
// not offered by this API.
const maxTokenTTL = 365 * 24 * time.Hour

var (
	errTokenRequest = &userError{http.StatusBadRequest, "invalid_request", "A token needs a name, at least one scope and an expiry of up to a year."}
	errTokenScope   = &userError{http.StatusForbidden, "invalid_scope", "A token cannot have a scope or an application its maker lacks."}
	errNoToken      = &userError{http.StatusNotFound, "not_found", "No such token."}
)

// createTokenFor makes a token for the holder of c, with scopes and apps
// within c's: a person can give a token only what their own has.
func (p *Platform) createTokenFor(ctx context.Context, c *token.Claims, req api.CreateTokenRequest) (*api.SessionResponse, error) {
	ttl := time.Duration(req.ExpiresIn) * time.Second
	if req.Name == "" || len(req.Name) > 100 || len(req.Scopes) == 0 || req.ExpiresIn <= 0 || ttl > maxTokenTTL {
		return nil, errTokenRequest
	}
	for _, s := range req.Scopes {
		if !c.HasScope(s) {
			return nil, errTokenScope
		}
	}
	for _, a := range req.Apps {
		if c.CheckApp(a) != nil {
			return nil, errTokenScope
		}
	}
	if len(c.Apps) > 0 && len(req.Apps) == 0 {
		req.Apps = c.Apps
	}
	// A token outlives the session that made it, as API tokens do; the
	// person revokes it, or signs out everywhere.
	resp, err := p.issue(ctx, c.Subject, req.Name, req.Scopes, req.Apps, p.now().Add(ttl))
	if errors.Is(err, token.ErrClaims) {
		return nil, errTokenRequest
	}
	if err != nil {
		return nil, err
	}
	p.audit.Info("token created", "subject", c.Subject, "token_id", resp.TokenID, "scopes", strings.Join(resp.Scopes, " "), "by_token", c.ID)
	return resp, nil
}

func (p *Platform) createToken(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	resp, err := p.createTokenFor(r.Context(), claims(r), req)
	if err != nil {
		p.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// tokensOf lists the tokens of subject, by id and metadata.
func (p *Platform) tokensOf(ctx context.Context, subject string) ([]api.TokenInfo, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT id, name, scopes, apps, created, expires, revoked FROM tokens WHERE subject = ? ORDER BY created, rowid`, subject)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []api.TokenInfo{}
	for rows.Next() {
		var t api.TokenInfo
		var scopes, apps string
		var created, expires, revoked int64
		if err := rows.Scan(&t.ID, &t.Name, &scopes, &apps, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		t.Scopes = strings.Fields(scopes)
		t.Apps = strings.Fields(apps)
		t.Created, t.Expires, t.Revoked = time.Unix(created, 0).UTC(), unixOrZero(expires).UTC(), revoked != 0
		list = append(list, t)
	}
	return list, rows.Err()
}

func (p *Platform) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := p.tokensOf(r.Context(), claims(r).Subject)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// revokeTokenOf revokes the token id of the holder of c.
func (p *Platform) revokeTokenOf(ctx context.Context, c *token.Claims, id string) error {
	res, err := p.db.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = ? AND subject = ?`, id, c.Subject)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoToken
	}
	var expires int64
	if err := p.db.QueryRowContext(ctx, `SELECT expires FROM tokens WHERE id = ?`, id).Scan(&expires); err != nil {
		return err
	}
	if err := p.revocations.RevokeID(ctx, id, unixOrZero(expires)); err != nil {
		return err
	}
	p.audit.Info("token revoked", "subject", c.Subject, "token_id", id, "by_token", c.ID)
	return nil
}

func (p *Platform) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := p.revokeTokenOf(r.Context(), claims(r), r.PathValue("id")); err != nil {
		p.writeUserError(w, r, err)
		return
	}
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
