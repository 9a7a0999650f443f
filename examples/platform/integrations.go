package platform

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
)

// integrations keeps the person's integrations (the app's public key and
// wrapped private key) and their requests, sealed: it seals an
// integrator's definition on arrival, or stores the envelope an
// integrator sealed and signed itself.
type integrations struct {
	base
}

func (ig *integrations) create(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	var req api.CreateIntegrationRequest
	if !readJSON(w, r, &req) {
		return
	}
	if _, err := sealedbox.ParsePublicKey(req.PublicKey); err != nil || len(req.WrappedKey) == 0 || len(req.WrappedKey) > 4096 {
		writeError(w, http.StatusBadRequest, "invalid_request", "publicKey and wrappedKey are required")
		return
	}
	var n int
	if err := ig.db.QueryRowContext(r.Context(), `SELECT count(*) FROM clients WHERE id = ?`, req.Integrator).Scan(&n); err != nil || n == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "no such integrator")
		return
	}
	id := newID("in_")
	_, err := ig.db.ExecContext(r.Context(), `INSERT INTO integrations (id, owner, client, public_key, wrapped_key, created) VALUES (?, ?, ?, ?, ?, ?)`,
		id, c.Subject, req.Integrator, req.PublicKey, req.WrappedKey, ig.now().Unix())
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	ig.audit.Info("integration switched on", "user", c.Subject, "integration", id, "integrator", req.Integrator)
	writeJSON(w, http.StatusCreated, api.IDResponse{ID: id})
}

func (ig *integrations) list(w http.ResponseWriter, r *http.Request) {
	rows, err := ig.db.QueryContext(r.Context(), `SELECT id, client, public_key, wrapped_key, created FROM integrations WHERE owner = ? ORDER BY created, id`, claims(r).Subject)
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	defer rows.Close()
	list := []api.Integration{}
	for rows.Next() {
		var in api.Integration
		var created int64
		if err := rows.Scan(&in.ID, &in.Integrator, &in.PublicKey, &in.WrappedKey, &created); err != nil {
			ig.internalError(w, r, err)
			return
		}
		in.Created = time.Unix(created, 0).UTC()
		list = append(list, in)
	}
	writeJSON(w, http.StatusOK, list)
}

// own loads an integration of the caller, answering 404 for
// others' (so ids of others' integrations cannot be probed).
func (ig *integrations) own(w http.ResponseWriter, r *http.Request) (*api.Integration, bool) {
	var in api.Integration
	var created int64
	err := ig.db.QueryRowContext(r.Context(), `SELECT id, client, public_key, wrapped_key, created FROM integrations WHERE id = ? AND owner = ?`,
		r.PathValue("id"), claims(r).Subject).Scan(&in.ID, &in.Integrator, &in.PublicKey, &in.WrappedKey, &created)
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "not_found", "no such integration")
		return nil, false
	}
	if err != nil {
		ig.internalError(w, r, err)
		return nil, false
	}
	in.Created = time.Unix(created, 0).UTC()
	return &in, true
}

func (ig *integrations) get(w http.ResponseWriter, r *http.Request) {
	if in, ok := ig.own(w, r); ok {
		writeJSON(w, http.StatusOK, in)
	}
}

func (ig *integrations) listRequests(w http.ResponseWriter, r *http.Request) {
	in, ok := ig.own(w, r)
	if !ok {
		return
	}
	rows, err := ig.db.QueryContext(r.Context(), `SELECT id, envelope, created, signed FROM requests WHERE integration = ? ORDER BY created, id`, in.ID)
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	defer rows.Close()
	list := []api.SealedRequest{}
	for rows.Next() {
		var s api.SealedRequest
		var created int64
		if err := rows.Scan(&s.ID, &s.Envelope, &created, &s.Signed); err != nil {
			ig.internalError(w, r, err)
			return
		}
		s.Created = time.Unix(created, 0).UTC()
		list = append(list, s)
	}
	writeJSON(w, http.StatusOK, list)
}

func (ig *integrations) getRequest(w http.ResponseWriter, r *http.Request) {
	in, ok := ig.own(w, r)
	if !ok {
		return
	}
	var s api.SealedRequest
	var created int64
	err := ig.db.QueryRowContext(r.Context(), `SELECT id, envelope, created, signed FROM requests WHERE id = ? AND integration = ?`,
		r.PathValue("rid"), in.ID).Scan(&s.ID, &s.Envelope, &created, &s.Signed)
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "not_found", "no such request")
		return
	}
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	s.Created = time.Unix(created, 0).UTC()
	writeJSON(w, http.StatusOK, s)
}

// postRequest takes an integrator's request definition, checks it, seals it
// to the integration's public key and stores the envelope only. The
// definition is in this process's memory for the length of this call and
// nowhere else: not in the database, not in the log, not in any answer.
func (ig *integrations) postRequest(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	// Only the integrator the person chose may post to the integration.
	_, pub, ok := ig.integratorClient(w, r)
	if !ok {
		return
	}
	def, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the definition is too large")
		return
	}
	if _, err := integrator.ParseRequest(def); err != nil {
		// The error names fields, never values.
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	key, err := sealedbox.ParsePublicKey(pub)
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	integrationID, requestID := r.PathValue("id"), newID("rq_")
	envelope, err := sealedbox.Seal(key, def, api.RequestContext(integrationID, requestID))
	clear(def)
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	if _, err := ig.db.ExecContext(r.Context(), `INSERT INTO requests (id, integration, envelope, created) VALUES (?, ?, ?, ?)`,
		requestID, integrationID, envelope, ig.now().Unix()); err != nil {
		ig.internalError(w, r, err)
		return
	}
	ig.audit.Info("request sealed", "integration", integrationID, "request", requestID, "integrator", c.Subject,
		"suite", key.Suite().String(), "envelope_bytes", len(envelope))
	writeJSON(w, http.StatusCreated, api.IDResponse{ID: requestID})
}

func (ig *integrations) summaries(ctx context.Context, owner string) ([]integrationSummary, error) {
	rows, err := ig.db.QueryContext(ctx, `SELECT i.id, c.name, (SELECT count(*) FROM requests r WHERE r.integration = i.id)
		FROM integrations i JOIN clients c ON c.id = i.client WHERE i.owner = ? ORDER BY i.created, i.id`, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []integrationSummary
	for rows.Next() {
		var s integrationSummary
		if err := rows.Scan(&s.ID, &s.Integrator, &s.Requests); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}
