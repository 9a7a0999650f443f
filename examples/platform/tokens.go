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

// tokens issues, records, lists and revokes the API's tokens (sessions,
// API tokens, integrators' and narrowed ones), and guards the API's routes
// with them. It keeps each token's id and metadata, never the token.
type tokens struct {
	base
	issuer      *token.Issuer
	verifier    *token.Verifier
	revocations token.Revocations // shared with the broker's verifier
}

// newTokens makes the API's issuer and verifier, named name, under keys,
// and replays the revocations the database holds into revocations.
func newTokens(ctx context.Context, b base, cfg token.Config) (*tokens, error) {
	tk := &tokens{base: b, revocations: cfg.Revocations}
	if err := tk.loadRevocations(ctx); err != nil {
		return nil, err
	}
	tk.issuer = &token.Issuer{Config: cfg}
	tk.verifier = &token.Verifier{Config: cfg}
	return tk, nil
}

// maxTokenTTL caps what a person may ask for; tokens without expiry are
// not offered by this API.
const maxTokenTTL = 365 * 24 * time.Hour

var (
	errTokenRequest = &userError{http.StatusBadRequest, "invalid_request", "A token needs a name, at least one scope and an expiry of up to a year."}
	errTokenScope   = &userError{http.StatusForbidden, "invalid_scope", "A token cannot have a scope or an application its maker lacks."}
	errNoToken      = &userError{http.StatusNotFound, "not_found", "No such token."}
)

// createFor makes a token for the holder of c, with scopes and apps
// within c's: a person can give a token only what their own has.
func (tk *tokens) createFor(ctx context.Context, c *token.Claims, req api.CreateTokenRequest) (*api.SessionResponse, error) {
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
	resp, err := tk.issue(ctx, c.Subject, req.Name, req.Scopes, req.Apps, tk.now().Add(ttl))
	if errors.Is(err, token.ErrClaims) {
		return nil, errTokenRequest
	}
	if err != nil {
		return nil, err
	}
	tk.audit.Info("token created", "subject", c.Subject, "token_id", resp.TokenID, "scopes", strings.Join(resp.Scopes, " "), "by_token", c.ID)
	return resp, nil
}

func (tk *tokens) createRoute(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	resp, err := tk.createFor(r.Context(), claims(r), req)
	if err != nil {
		tk.writeUserError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// list lists the tokens of subject, by id and metadata.
func (tk *tokens) list(ctx context.Context, subject string) ([]api.TokenInfo, error) {
	rows, err := tk.db.QueryContext(ctx, `SELECT id, name, scopes, apps, created, expires, revoked FROM tokens WHERE subject = ? ORDER BY created, rowid`, subject)
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

func (tk *tokens) listRoute(w http.ResponseWriter, r *http.Request) {
	list, err := tk.list(r.Context(), claims(r).Subject)
	if err != nil {
		tk.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// revoke revokes the token id of the holder of c.
func (tk *tokens) revoke(ctx context.Context, c *token.Claims, id string) error {
	res, err := tk.db.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = ? AND subject = ?`, id, c.Subject)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoToken
	}
	var expires int64
	if err := tk.db.QueryRowContext(ctx, `SELECT expires FROM tokens WHERE id = ?`, id).Scan(&expires); err != nil {
		return err
	}
	if err := tk.revocations.RevokeID(ctx, id, unixOrZero(expires)); err != nil {
		return err
	}
	tk.audit.Info("token revoked", "subject", c.Subject, "token_id", id, "by_token", c.ID)
	return nil
}

func (tk *tokens) revokeRoute(w http.ResponseWriter, r *http.Request) {
	if err := tk.revoke(r.Context(), claims(r), r.PathValue("id")); err != nil {
		tk.writeUserError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (tk *tokens) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	if err := tk.revokeSubject(r.Context(), c.Subject, tk.now()); err != nil {
		tk.internalError(w, r, err)
		return
	}
	tk.audit.Info("signed out everywhere", "subject", c.Subject, "by_token", c.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (tk *tokens) revokeSubject(ctx context.Context, subject string, before time.Time) error {
	_, err := tk.db.ExecContext(ctx, `INSERT INTO subject_revocations (subject, before) VALUES (?, ?)
		ON CONFLICT (subject) DO UPDATE SET before = max(before, excluded.before)`, subject, before.Unix())
	if err != nil {
		return err
	}
	return tk.revocations.RevokeSubject(ctx, subject, before)
}

// issue makes a token and records its metadata (never the token).
func (tk *tokens) issue(ctx context.Context, subject, name string, scopes, apps []string, exp time.Time) (*api.SessionResponse, error) {
	tok, c, err := tk.issuer.Issue(ctx, token.Claims{Subject: subject, Scopes: scopes, Apps: apps, Expires: exp})
	if err != nil {
		return nil, err
	}
	if err := tk.record(ctx, c, name); err != nil {
		return nil, err
	}
	return &api.SessionResponse{Token: tok, TokenID: c.ID, Scopes: c.Scopes, Expires: c.Expires}, nil
}

func (tk *tokens) record(ctx context.Context, c *token.Claims, name string) error {
	_, err := tk.db.ExecContext(ctx, `INSERT INTO tokens (id, subject, name, scopes, apps, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Subject, name, strings.Join(c.Scopes, " "), strings.Join(c.Apps, " "), c.IssuedAt.Unix(), unixOf(c.Expires))
	return err
}

func (tk *tokens) loadRevocations(ctx context.Context) error {
	rows, err := tk.db.QueryContext(ctx, `SELECT id, expires FROM tokens WHERE revoked != 0`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var exp int64
		if err := rows.Scan(&id, &exp); err != nil {
			return err
		}
		if err := tk.revocations.RevokeID(ctx, id, unixOrZero(exp)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows2, err := tk.db.QueryContext(ctx, `SELECT subject, before FROM subject_revocations`)
	if err != nil {
		return err
	}
	defer rows2.Close()
	for rows2.Next() {
		var sub string
		var before int64
		if err := rows2.Scan(&sub, &before); err != nil {
			return err
		}
		if err := tk.revocations.RevokeSubject(ctx, sub, time.Unix(before, 0)); err != nil {
			return err
		}
	}
	return rows2.Err()
}
