package app

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"sync"

	"github.com/latchsec/latch/examples/platform"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
)

// signedState is what the app keeps for signed requests: the key set it
// pinned per integration and the highest version it accepted per request.
// A real app persists both with its other state (the versions before it
// acts on a request); the demo keeps them in memory.
type signedState struct {
	mu        sync.Mutex
	verifiers map[string]*integrator.StatementVerifier // by integration id, with its pinned key set
	versions  integrator.MemoryVersions
}

// PinIntegratorKeys fetches the key set the integrator publishes at
// https://host/.well-known/latch-integrator-keys, under TlsWithCACheck
// (roots nil means the system roots; the demo's Acme has a self-signed
// certificate, so the demo passes it), and pins it for the integration.
// The app shows host to the person, who checks that it is the
// integrator's; from then on the integration's requests must be signed
// with a key of this set.
func (p *Phone) PinIntegratorKeys(ctx context.Context, integrationID, host string, roots *x509.CertPool) (*integrator.KeySet, error) {
	set, err := integrator.FetchKeySet(ctx, host, integrator.FetchOptions{RootCAs: roots})
	if err != nil {
		return nil, err
	}
	p.signed.mu.Lock()
	defer p.signed.mu.Unlock()
	if p.signed.verifiers == nil {
		p.signed.verifiers = map[string]*integrator.StatementVerifier{}
	}
	p.signed.verifiers[integrationID] = &integrator.StatementVerifier{Keys: set, Versions: &p.signed.versions}
	return set, nil
}

// openRequest opens a stored request: with the pinned key set of its
// integration, if there is one, as a signed statement (an unsigned,
// foreign, moved or older one is refused); else as the platform sealed
// it. It returns the definition.
func (p *Phone) openRequest(key *sealedbox.PrivateKey, integrationID string, r platform.SealedRequest) ([]byte, error) {
	p.signed.mu.Lock()
	v := p.signed.verifiers[integrationID]
	p.signed.mu.Unlock()
	if v == nil {
		if sealedbox.IsSigned(r.Envelope) {
			return nil, errors.New("app: a signed request for an integration whose integrator keys are not pinned")
		}
		return sealedbox.Open(key, r.Envelope, platform.RequestContext(integrationID, r.ID))
	}
	s, err := v.Open(key, r.Envelope, integrationID, r.ID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s.Definition)
}
