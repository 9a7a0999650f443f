package sealedbox_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/e2e"
)

// The whole flow: the app makes a key pair when an integration is switched
// on and stores the public key and the wrapped private key in the cloud; the
// cloud seals each integrator request to the public key; later the app
// unwraps the private key and opens the request. The end-to-end key and the
// wrapping are sealedbox/e2e's.
func Example() {
	// The end-to-end key, shared by the person's app and devices only.
	e2eKey := e2e.GenerateKey()

	// App: a key pair for the integration; the cloud gets the public key
	// and the wrapped private key.
	priv, err := sealedbox.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	storedPublic := priv.PublicKey().String() // "latch_pk_mlkem768x25519_..."
	storedWrapped, err := e2e.WrapPrivateKey(e2eKey, priv)
	if err != nil {
		log.Fatal(err)
	}

	// Cloud: seal an integrator request to the stored public key, bound to
	// the record it is stored in.
	pub, err := sealedbox.ParsePublicKey(storedPublic)
	if err != nil {
		log.Fatal(err)
	}
	record := []byte("integration 7/request 42")
	envelope, err := sealedbox.Seal(pub, []byte(`{"method":"GET","url":"https://api.example.com/state"}`), record)
	if err != nil {
		log.Fatal(err)
	}

	// App, later: unwrap the private key (checking that the cloud did not
	// swap the public key) and open the request.
	pub, err = sealedbox.ParsePublicKey(storedPublic)
	if err != nil {
		log.Fatal(err)
	}
	key, err := e2e.UnwrapPrivateKey(e2eKey, storedWrapped, pub)
	if err != nil {
		log.Fatal(err)
	}
	request, err := sealedbox.Open(key, envelope, record)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("app opened: %s\n", request)

	// The same envelope moved to another record does not open.
	_, err = sealedbox.Open(key, envelope, []byte("integration 7/request 43"))
	fmt.Println("moved envelope:", errors.Is(err, sealedbox.ErrOpen))

	// The app then sends what it derived to the device as an end-to-end
	// message: see sealedbox/e2e's example.

	// Output:
	// app opened: {"method":"GET","url":"https://api.example.com/state"}
	// moved envelope: true
}

// Opening with the wrong key fails from the key id alone, before any KEM
// work; EnvelopeKeyID tells which key an envelope needs.
func ExampleOpen_wrongKey() {
	current, _ := sealedbox.GenerateKey()
	previous, _ := sealedbox.GenerateKey()
	envelope, _ := sealedbox.Seal(previous.PublicKey(), []byte("sealed before the key was rotated"), nil)

	_, err := sealedbox.Open(current, envelope, nil)
	fmt.Println(errors.Is(err, sealedbox.ErrWrongKey))

	id, _ := sealedbox.EnvelopeKeyID(envelope)
	if id == previous.KeyID() {
		pt, _ := sealedbox.Open(previous, envelope, nil)
		fmt.Printf("%s\n", pt)
	}

	// Output:
	// true
	// sealed before the key was rotated
}

// X25519 keys and envelopes are smaller; see the package documentation for
// when giving up post-quantum protection is acceptable.
func ExampleX25519() {
	priv, err := sealedbox.X25519().GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	envelope, _ := sealedbox.Seal(priv.PublicKey(), []byte("hello"), nil)
	fmt.Println(priv.Suite(), len(envelope)-len("hello"))
	fmt.Println(sealedbox.MLKEM768X25519(), sealedbox.MLKEM768X25519().Overhead())

	// Output:
	// X25519 90
	// MLKEM768X25519 1178
}

// An integrator signs and seals a request to the app's public key; the app
// opens it with the integrator's verifying key, which it got from the
// integrator itself, and learns who signed. An envelope the cloud sealed
// to the same public key is refused.
func ExampleSealSigned() {
	// Integrator: a signing key; the verifying key is published.
	signer, err := sealedbox.GenerateSigningKey()
	if err != nil {
		log.Fatal(err)
	}
	published := signer.VerifyingKey().String() // "latch_vk_mldsa65ed25519_..."

	// App: a key pair for the integration.
	app, err := sealedbox.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	record := []byte("integration 7/request 42")

	envelope, err := sealedbox.SealSigned(app.PublicKey(), signer, []byte(`{"method":"GET"}`), record)
	if err != nil {
		log.Fatal(err)
	}

	trusted, err := sealedbox.ParseVerifyingKey(published)
	if err != nil {
		log.Fatal(err)
	}
	plaintext, signerID, err := sealedbox.OpenSigned(app, []*sealedbox.VerifyingKey{trusted}, envelope, record)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(plaintext), signerID == signer.KeyID())

	// The cloud seals its own request to the app's public key.
	forged, err := sealedbox.Seal(app.PublicKey(), []byte(`{"method":"POST"}`), record)
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = sealedbox.OpenSigned(app, []*sealedbox.VerifyingKey{trusted}, forged, record)
	fmt.Println(errors.Is(err, sealedbox.ErrUnsigned))
	// Output:
	// {"method":"GET"} true
	// true
}
