package integrator

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/sealedbox"
)

// A Statement is what an integrator signs for one request: the definition,
// the integration and request it is for, and a version number that grows
// with each new definition of the same request. Its JSON form is
//
//	{
//	  "format": "latch-signed-request/v1",
//	  "integrationId": "in_7",
//	  "requestId": "rq_42",
//	  "version": 3,
//	  "definition": {"method": "GET", "url": "https://api.example.com/state", ...}
//	}
//
// The integrator seals one with [Statement.Seal]; the person's app opens it
// with [StatementVerifier.Open].
type Statement struct {
	IntegrationID string
	RequestID     string
	Version       uint64
	Definition    *Request

	// Signer is the key id of the verifying key that signed the statement.
	// [StatementVerifier.Open] sets it; [Statement.Seal] ignores it.
	Signer sealedbox.KeyID
}

const statementFormat = "latch-signed-request/v1"

type statementJSON struct {
	Format        string          `json:"format"`
	IntegrationID string          `json:"integrationId"`
	RequestID     string          `json:"requestId"`
	Version       uint64          `json:"version"`
	Definition    json.RawMessage `json:"definition"`
}

// statementContext returns the sealedbox context of the signed request
// requestID of integration integrationID: a label and both ids, each
// preceded by its length. The envelope is bound to it, so an envelope moved
// to another request or integration does not open.
func statementContext(integrationID, requestID string) []byte {
	b := []byte("latch signed request v1\x00")
	b = binary.BigEndian.AppendUint32(b, uint32(len(integrationID)))
	b = append(b, integrationID...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(requestID)))
	return append(b, requestID...)
}

// Seal validates s and its definition, signs the statement with signer
// and seals it to the app's public key appKey, bound to the integration
// and request ids (an envelope moved to another request does not open).
// The integrator calls it on its own machines and uploads the envelope:
// whoever stores it (the platform) can neither read, change, move nor roll
// it back unnoticed. An invalid statement is an [ErrInvalidRequest].
//
// Version must be at least 1 and grow with each new definition of the
// same request; the app refuses a version lower than one it accepted.
func (s *Statement) Seal(appKey *sealedbox.PublicKey, signer *sealedbox.SigningKey) ([]byte, error) {
	data, err := s.marshal()
	if err != nil {
		return nil, err
	}
	return sealedbox.SealSigned(appKey, signer, data, statementContext(s.IntegrationID, s.RequestID))
}

func (s *Statement) marshal() ([]byte, error) {
	if s == nil || s.Definition == nil {
		return nil, invalid(FieldError{"definition", "missing"})
	}
	var v validator
	checkID(&v, "integrationId", s.IntegrationID)
	checkID(&v, "requestId", s.RequestID)
	if s.Version == 0 {
		v.add("version", "must be at least 1")
	}
	if err := s.Definition.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				v.add("definition."+p.Field, p.Reason)
			}
		} else {
			v.add("definition", "invalid")
		}
	}
	if len(v.problems) > 0 {
		return nil, invalid(v.problems...)
	}
	def, err := json.Marshal(s.Definition)
	if err != nil {
		return nil, invalid(FieldError{"definition", "cannot be encoded"})
	}
	return json.Marshal(statementJSON{statementFormat, s.IntegrationID, s.RequestID, s.Version, def})
}

// checkID requires an integration or request id of 1 to maxID bytes of
// UTF-8 without control characters.
func checkID(v *validator, field, id string) {
	if id == "" || len(id) > maxID || !utf8.ValidString(id) {
		v.add(field, fmt.Sprintf("must be 1 to %d bytes of UTF-8", maxID))
		return
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			v.add(field, "contains a control character")
			return
		}
	}
}

// parseStatement parses a statement strictly: no unknown, repeated or
// differently spelled fields, no trailing data, the one format, and a
// definition that ParseRequest accepts. Every error matches
// ErrInvalidRequest.
func parseStatement(data []byte) (*Statement, error) {
	var sj statementJSON
	if err := strictjson.Decode(data, &sj); err != nil {
		return nil, invalid(jsonProblem(err))
	}
	var v validator
	if sj.Format != statementFormat {
		v.add("format", "must be "+statementFormat)
	}
	checkID(&v, "integrationId", sj.IntegrationID)
	checkID(&v, "requestId", sj.RequestID)
	if sj.Version == 0 {
		v.add("version", "must be at least 1")
	}
	if len(v.problems) > 0 {
		return nil, invalid(v.problems...)
	}
	def, err := ParseRequest(sj.Definition)
	if err != nil {
		return nil, err
	}
	return &Statement{IntegrationID: sj.IntegrationID, RequestID: sj.RequestID, Version: sj.Version, Definition: def}, nil
}

// A VersionStore keeps, for the person's app, the highest version of each
// signed request it accepted, and the SHA-256 of that statement (so that
// another statement under the same version number is refused). It is the
// only defense against rollback: persist it durably (with the app's other
// state, before acting on a request), and never restore an older copy. An
// app that restarts with an empty store accepts any version again.
//
// Several verifiers may share a store (the app makes a new one when it
// pins a rotated key set), so SaveVersion must refuse, with an error, a
// version not higher than the one it holds rather than lower it.
type VersionStore interface {
	// LoadVersion returns what was saved for the request, or version 0 if
	// nothing was.
	LoadVersion(integrationID, requestID string) (version uint64, digest [32]byte, err error)
	// SaveVersion records a newly accepted version and its statement's
	// digest; it must be durable when it returns, and fail if the store
	// already holds a version as high.
	SaveVersion(integrationID, requestID string, version uint64, digest [32]byte) error
}

// A StatementVerifier is the person's app's side of signed requests: it
// opens a signed request downloaded from the platform, checks that the
// integrator signed it with a key of its pinned [KeySet], for this
// integration and request, and that it is not older than what was accepted
// before. Keys and Versions are required.
type StatementVerifier struct {
	// Keys is the integrator's key set, fetched from its host with
	// [FetchKeySet] when the person enabled the integration, and pinned.
	Keys *KeySet

	// Versions keeps the highest version accepted per request.
	Versions VersionStore

	// Now returns the current time, against which key validity is judged.
	// Nil means time.Now.
	Now func() time.Time

	mu sync.Mutex // serializes the version check and save
}

// Open opens envelope, stored by the platform for request requestID of
// integration integrationID, with the app's private key appKey, and
// returns the statement after every check:
//
//   - it is signed by a key of v.Keys valid now: an unsigned envelope, one
//     signed by any other key, or with a signature that does not verify is
//     refused (the sealedbox reason, [sealedbox.ErrUnsigned],
//     [sealedbox.ErrUnknownSigner] or [sealedbox.ErrBadSignature], is in the
//     error);
//   - it was sealed for this request and integration (otherwise
//     [sealedbox.ErrOpen]), and the statement names them;
//   - its version is not lower than the highest accepted for the request,
//     and if equal it is the same statement: otherwise [ErrRollback]. A
//     higher version is saved to v.Versions before Open returns.
//
// Every error matches [ErrSignedRequest].
func (v *StatementVerifier) Open(appKey *sealedbox.PrivateKey, envelope []byte, integrationID, requestID string) (*Statement, error) {
	if v.Keys == nil || v.Versions == nil {
		return nil, reason.Newf(ErrSignedRequest, nil, "StatementVerifier without Keys or Versions")
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	data, signer, err := sealedbox.OpenSigned(appKey, v.Keys.validAt(now()), envelope, statementContext(integrationID, requestID))
	if err != nil {
		return nil, refused(nil, err)
	}
	s, err := parseStatement(data)
	if err != nil {
		return nil, refused(nil, err) // a *ValidationError: ErrInvalidRequest
	}
	s.Signer = signer
	if s.IntegrationID != integrationID || s.RequestID != requestID {
		return nil, refused(errMoved, nil)
	}
	digest := sha256.Sum256(data)
	v.mu.Lock()
	defer v.mu.Unlock()
	last, lastDigest, err := v.Versions.LoadVersion(integrationID, requestID)
	if err != nil {
		return nil, refused(errVersionStore, err)
	}
	switch {
	case s.Version < last:
		return nil, refused(ErrRollback, nil)
	case s.Version == last && digest != lastDigest:
		return nil, reason.Newf(ErrSignedRequest, ErrRollback, "another statement under an accepted version")
	case s.Version > last:
		if err := v.Versions.SaveVersion(integrationID, requestID, s.Version, digest); err != nil {
			return nil, refused(errVersionStore, err)
		}
	}
	return s, nil
}
