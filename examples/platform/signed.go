package platform

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/sealedbox"
)

// Client-side sealing: an integrator that signs its requests seals them
// itself (integrator.Statement.Seal) to the integration's public key, which
// it gets from integratorPublicKey, and stores the envelope with
// putSignedRequest. The platform never has the plaintext, not even on
// arrival; it checks only what it can see (the envelope is signed by its
// header, sealed to the integration's key, not too large) and marks the
// request signed.

// maxSignedEnvelope caps a signed envelope: a 1 MiB plaintext with the
// largest suite and signature overheads.
const maxSignedEnvelope = 1<<20 + 8192

// signedRequestID is what an integrator may name its own request.
var signedRequestID = regexp.MustCompile(`^rq_[A-Za-z0-9_-]{1,64}$`)

// integratorClient returns the integrator's client id and the public key of
// integration id if the caller is the integrator the person chose for it
// and its token is not limited to other applications than the person's;
// otherwise it answers 404 (or 403) and returns false.
func (ig *integrations) integratorClient(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	c := claims(r)
	client, isClient := strings.CutPrefix(c.Subject, "client:")
	var pub, owner string
	err := ig.db.QueryRowContext(r.Context(), `SELECT public_key, owner FROM integrations WHERE id = ? AND client = ?`,
		r.PathValue("id"), client).Scan(&pub, &owner)
	if !isClient || err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such integration for this integrator")
		return "", "", false
	}
	if !ig.checkApp(w, r, c, owner) {
		return "", "", false
	}
	return client, pub, true
}

// integratorPublicKey gives the integrator the integration's public key to
// seal to. (A platform that swapped it would get envelopes it can open;
// it still could not forge one the app accepts, as the signature covers
// the recipient's key id.)
func (ig *integrations) integratorPublicKey(w http.ResponseWriter, r *http.Request) {
	if _, pub, ok := ig.integratorClient(w, r); ok {
		writeJSON(w, http.StatusOK, api.PublicKeyResponse{PublicKey: pub})
	}
}

// putSignedRequest stores an envelope the integrator signed and sealed
// itself as request rid of the integration, in place of an earlier version
// of the same request. The body is the envelope's bytes.
func (ig *integrations) putSignedRequest(w http.ResponseWriter, r *http.Request) {
	client, pub, ok := ig.integratorClient(w, r)
	if !ok {
		return
	}
	integrationID, requestID := r.PathValue("id"), r.PathValue("rid")
	if !signedRequestID.MatchString(requestID) {
		writeError(w, http.StatusBadRequest, "invalid_request", "a request id is rq_ and up to 64 letters, digits, - or _")
		return
	}
	envelope, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSignedEnvelope))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the envelope is too large")
		return
	}
	key, err := sealedbox.ParsePublicKey(pub)
	if err != nil {
		ig.internalError(w, r, err)
		return
	}
	id, err := sealedbox.EnvelopeKeyID(envelope)
	if err != nil || !sealedbox.IsSigned(envelope) || id != key.KeyID() {
		writeError(w, http.StatusBadRequest, "invalid_request", "the body must be a signed envelope sealed to the integration's public key")
		return
	}
	var owner string
	err = ig.db.QueryRowContext(r.Context(), `SELECT integration FROM requests WHERE id = ?`, requestID).Scan(&owner)
	if err == nil && owner != integrationID {
		writeError(w, http.StatusConflict, "conflict", "that request id is taken")
		return
	}
	if _, err := ig.db.ExecContext(r.Context(), `INSERT INTO requests (id, integration, envelope, created, signed) VALUES (?, ?, ?, ?, 1)
		ON CONFLICT(id) DO UPDATE SET envelope = excluded.envelope, signed = 1`,
		requestID, integrationID, bytes.Clone(envelope), ig.now().Unix()); err != nil {
		ig.internalError(w, r, err)
		return
	}
	ig.audit.Info("signed request stored", "integration", integrationID, "request", requestID, "integrator", client,
		"envelope_bytes", len(envelope))
	writeJSON(w, http.StatusOK, api.IDResponse{ID: requestID})
}
