package integrator_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
)

// The integrator signs and seals version 2 of a request; the app, which
// pinned the integrator's key set, accepts it and then refuses version 1,
// which the platform serves in its place.
func ExampleStatementVerifier() {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	// Integrator: a signing key, and the key set it serves at
	// https://api.example.com/.well-known/latch-integrator-keys.
	signer, err := sealedbox.GenerateSigningKey()
	if err != nil {
		log.Fatal(err)
	}
	doc, err := integrator.MarshalKeySet([]integrator.PublishedKey{{Key: signer.VerifyingKey(), NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}})
	if err != nil {
		log.Fatal(err)
	}

	// App: its key pair for the integration, and the key set it fetched
	// with integrator.FetchKeySet(ctx, "api.example.com", ...) and pinned.
	appKey, err := sealedbox.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	keys, err := integrator.ParseKeySet("api.example.com", doc)
	if err != nil {
		log.Fatal(err)
	}

	seal := func(version uint64) []byte {
		s := &integrator.Statement{
			IntegrationID: "in_7", RequestID: "rq_42", Version: version,
			Definition: &integrator.Request{Method: "GET", URL: "https://api.example.com/state"},
		}
		env, err := s.Seal(appKey.PublicKey(), signer)
		if err != nil {
			log.Fatal(err)
		}
		return env
	}
	v1, v2 := seal(1), seal(2)

	// The app keeps the versions it accepted; a real app in a file or
	// database, written before it acts on a request.
	verifier := &integrator.StatementVerifier{Keys: keys, Versions: versions{}, Now: func() time.Time { return now.Add(time.Hour) }}
	s, err := verifier.Open(appKey, v2, "in_7", "rq_42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Version, s.Definition.URL, s.Signer == signer.KeyID())
	_, err = verifier.Open(appKey, v1, "in_7", "rq_42")
	fmt.Println(errors.Is(err, integrator.ErrRollback))
	// Output:
	// 2 https://api.example.com/state true
	// true
}

// versions is the app's VersionStore, here a map: a real app keeps it on
// durable storage, since one that forgets it accepts older versions again.
type versions map[[2]string]accepted

type accepted struct {
	version uint64
	digest  [32]byte
}

func (v versions) LoadVersion(integrationID, requestID string) (uint64, [32]byte, error) {
	a := v[[2]string{integrationID, requestID}]
	return a.version, a.digest, nil
}

func (v versions) SaveVersion(integrationID, requestID string, version uint64, digest [32]byte) error {
	k := [2]string{integrationID, requestID}
	if version <= v[k].version {
		return errors.New("app: a version as high was saved meanwhile")
	}
	v[k] = accepted{version, digest}
	return nil
}
