package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"sync"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// signedState is what the app keeps for signed requests: the key set it
// pinned per integration and the highest version it accepted per request.
// With a state file ([Phone.UseStateFile]) every change is written there
// before the app acts on it; without one it lives in memory only.
type signedState struct {
	mu        sync.Mutex
	path      string                                   // the state file, "" for none
	verifiers map[string]*integrator.StatementVerifier // by integration id, with its pinned key set
	pins      map[string]pinnedKeySet                  // by integration id, as the state file holds them
	accepted  map[[2]string]accepted                   // by integration and request id
}

// accepted is the highest version of a signed request the app accepted,
// and the SHA-256 of that statement.
type accepted struct {
	Version uint64
	Digest  [32]byte
}

// LoadVersion implements [integrator.VersionStore].
func (s *signedState) LoadVersion(integrationID, requestID string) (uint64, [32]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accepted[[2]string{integrationID, requestID}]
	return a.Version, a.Digest, nil
}

// SaveVersion implements [integrator.VersionStore]: it records the version
// and digest, in the state file if there is one, before it returns. It
// never lowers a version, whichever verifier asks.
func (s *signedState) SaveVersion(integrationID, requestID string, version uint64, digest [32]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{integrationID, requestID}
	old, had := s.accepted[k]
	if version <= old.Version {
		return errors.New("app: a version as high was accepted meanwhile")
	}
	if s.accepted == nil {
		s.accepted = map[[2]string]accepted{}
	}
	s.accepted[k] = accepted{version, digest}
	if err := s.save(); err != nil {
		if had {
			s.accepted[k] = old
		} else {
			delete(s.accepted, k)
		}
		return err
	}
	return nil
}

// PinIntegratorKeys fetches the key set the integrator publishes at
// https://host/.well-known/latch-integrator-keys, under TlsWithCACheck
// (roots nil means the system roots; the demo's Acme has a self-signed
// certificate, so the demo passes it), and pins it for the integration,
// in the state file if there is one. The app shows host to the person,
// who checks that it is the integrator's; from then on the integration's
// requests must be signed with a key of this set.
func (p *Phone) PinIntegratorKeys(ctx context.Context, integrationID, host string, roots *x509.CertPool) (*integrator.KeySet, error) {
	set, err := integrator.FetchKeySet(ctx, host, tlspolicy.Policy{RootCAs: roots})
	if err != nil {
		return nil, err
	}
	s := &p.signed
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verifiers == nil {
		s.verifiers = map[string]*integrator.StatementVerifier{}
		s.pins = map[string]pinnedKeySet{}
	}
	oldPin, hadPin := s.pins[integrationID]
	s.pins[integrationID] = pinnedKeySet{Host: set.Host, Document: set.Document()}
	if err := s.save(); err != nil {
		if hadPin {
			s.pins[integrationID] = oldPin
		} else {
			delete(s.pins, integrationID)
		}
		return nil, err
	}
	s.verifiers[integrationID] = &integrator.StatementVerifier{Keys: set, Versions: s}
	return set, nil
}

// openRequest opens a stored request: with the pinned key set of its
// integration, if there is one, as a signed statement (an unsigned,
// foreign, moved or older one is refused); else as the platform sealed
// it. It returns the definition.
func (p *Phone) openRequest(key *sealedbox.PrivateKey, integrationID string, r api.SealedRequest) ([]byte, error) {
	p.signed.mu.Lock()
	v := p.signed.verifiers[integrationID]
	p.signed.mu.Unlock()
	if v == nil {
		if sealedbox.IsSigned(r.Envelope) {
			return nil, errors.New("app: a signed request for an integration whose integrator keys are not pinned")
		}
		return sealedbox.Open(key, r.Envelope, api.RequestContext(integrationID, r.ID))
	}
	s, err := v.Open(key, r.Envelope, integrationID, r.ID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s.Definition)
}
