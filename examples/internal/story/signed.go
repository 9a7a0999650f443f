package story

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/examples/app"
	"github.com/latchsec/latch/examples/device"
	acme "github.com/latchsec/latch/examples/integrator"
	"github.com/latchsec/latch/integrator"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// signedAct is the act of signed requests (issue 14): Acme signs and seals
// its request itself, the platform stores the envelope and marks it
// signed, Alice's app checks the signature against the key set it fetched
// from Acme's own host, and refuses what a cloud with write access to its
// storage puts in its place: a request sealed to the app's key, and an
// older version of the request.
func signedAct(ctx context.Context, n *narrator, o Options, phone *app.Phone, door *acme.Server, acmeID string, dev *device.Device, deviceID string, secret func(string) string) error {
	integrationID, err := phone.EnableIntegration(ctx, acmeID)
	if err != nil {
		return fmt.Errorf("switching on the signed integration: %w", err)
	}
	// The demo's Acme has a self-signed certificate, so the app is given it
	// as the root; a real app uses the system roots.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(door.CertPEM))
	set, err := phone.PinIntegratorKeys(ctx, integrationID, door.Host, roots)
	if err != nil {
		return fmt.Errorf("pinning Acme's key set: %w", err)
	}
	n.step("Alice switches on a second Acme integration, %s, whose requests Acme signs. Her app fetches Acme's key set itself from https://%s%s under TlsWithCACheck, shows her the host %s, and pins the set: %d key (ML-DSA-65 and Ed25519), key id %s….",
		integrationID, door.Host, integrator.KeySetPath, set.Host, len(set.Keys), set.Keys[0].Key.KeyID().String()[:16])

	const requestID = "rq_back_door"
	def1, v1, err := door.LinkSigned(ctx, integrationID, requestID, "back", "delivery", 1)
	if err != nil {
		return err
	}
	def2, _, err := door.LinkSigned(ctx, integrationID, requestID, "back", "delivery, second version", 2)
	if err != nil {
		return err
	}
	for _, def := range [][]byte{def1, def2} {
		var d integrator.Request
		if err := json.Unmarshal(def, &d); err != nil {
			return err
		}
		secret(d.Authorization.RefreshToken)
		secret(d.Body)
	}
	stored, err := phone.SealedRequests(ctx, integrationID)
	if err != nil || len(stored) != 1 || !stored[0].Signed || stored[0].ID != requestID {
		return fmt.Errorf("the platform does not list one signed request: %v %+v", err, stored)
	}
	if !sealedbox.IsSigned(stored[0].Envelope) || bytes.Equal(stored[0].Envelope, v1) {
		return errors.New("the platform does not store Acme's second version as it was sent")
	}
	n.step("Acme signs and seals request %s on its own machines (version 1, then version 2 with a new definition) and stores the envelope with PUT; the platform checks only that it is signed and sealed to the integration's key, marks it signed, and never has the definition, not even on arrival.", requestID)

	pushed, err := phone.PushRules(ctx, integrationID, deviceID)
	if err != nil || len(pushed) != 1 {
		return fmt.Errorf("pushing the signed request: %v", err)
	}
	out, err := waitOutcome(ctx, dev, o.StepTimeout)
	if err != nil {
		return err
	}
	if out.Refused != "" || out.Error != "" || out.StatusCode != http.StatusOK || out.Request != requestID {
		return fmt.Errorf("the device did not execute the signed request: %+v", out)
	}
	if call, err := waitCall(ctx, door, o.StepTimeout); err != nil || call.StatusCode != http.StatusOK {
		return fmt.Errorf("the door API of Acme did not open the back door: %+v %v", call, err)
	}
	n.step("Alice's app opens version 2, checks Acme's signature with the pinned key, that it is for integration %s and request %s, and that no higher version was seen; it keeps version 2 as the highest and sends the rule. The device opens the back door (200).", integrationID, requestID)

	// The cloud, or whoever breaks into its database, rewrites the stored
	// envelope, first with a definition of its own sealed to the app's
	// public key (public keys are public), then with Acme's version 1.
	pub, err := sealedbox.ParsePublicKey(mustIntegration(ctx, phone, integrationID).PublicKey)
	if err != nil {
		return err
	}
	var evil integrator.Request
	if err := json.Unmarshal(def2, &evil); err != nil {
		return err
	}
	evil.URL = "http://127.0.0.1:1/steal"
	evil.SecurityLevel = tlspolicy.AllowHttp
	evil.PinnedCertificate = ""
	evil.Authorization.TokenURL = "http://127.0.0.1:1/token"
	evilStatement, err := json.Marshal(map[string]any{"format": "latch-signed-request/v1", "integrationId": integrationID,
		"requestId": requestID, "version": 99, "definition": evil})
	if err != nil {
		return err
	}
	// Sealed as the platform seals the requests of unsigned integrations:
	// whatever the context, the app refuses an envelope that is not signed.
	forged, err := sealedbox.Seal(pub, evilStatement, api.RequestContext(integrationID, requestID))
	if err != nil {
		return err
	}
	if err := rewriteEnvelope(o.StateDir, requestID, forged); err != nil {
		return err
	}
	if _, err := phone.PushRules(ctx, integrationID, deviceID); !errors.Is(err, integrator.ErrSignedRequest) || !errors.Is(err, sealedbox.ErrUnsigned) {
		return fmt.Errorf("the app accepted a request the cloud sealed to its key: %v", err)
	}
	n.step("The cloud swaps the stored request for its own definition (its token endpoint, AllowHttp, version 99) sealed to the app's public key and marked signed. Alice's app refuses it: the envelope is not signed by Acme (%v). Nothing reaches the device.", sealedbox.ErrUnsigned)

	if err := rewriteEnvelope(o.StateDir, requestID, v1); err != nil {
		return err
	}
	if _, err := phone.PushRules(ctx, integrationID, deviceID); !errors.Is(err, integrator.ErrRollback) {
		return fmt.Errorf("the app accepted an older version: %v", err)
	}
	n.step("The cloud puts back Acme's genuine version 1. The signature holds, but Alice's app has accepted version 2 for this request and refuses it (%v).", integrator.ErrRollback)
	return nil
}

// mustIntegration returns the integration as the platform stores it.
func mustIntegration(ctx context.Context, phone *app.Phone, integrationID string) api.Integration {
	var in api.Integration
	phone.Do(ctx, http.MethodGet, "/v1/integrations/"+integrationID, phone.Session(), nil, &in)
	return in
}

// rewriteEnvelope writes envelope in place of the stored request's, as
// someone with write access to the platform's database would.
func rewriteEnvelope(stateDir, requestID string, envelope []byte) error {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(stateDir, "platform.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE requests SET envelope = ?, signed = 1 WHERE id = ?`, envelope, requestID)
	if err != nil {
		return fmt.Errorf("story: rewriting the stored request: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("story: the stored request to rewrite is missing")
	}
	return nil
}
