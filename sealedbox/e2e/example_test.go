package e2e_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/sealedbox/e2e"
)

// The app keeps a private key wrapped in the cloud and talks to a device
// through it: the cloud stores and relays text and bytes it can neither
// read nor change.
func Example() {
	// The end-to-end key, shared by the person's app and devices only (in
	// Latch, agreed by the pairing package).
	key := e2e.GenerateKey()

	// App: wrap an integration's private key; the cloud stores the public
	// key and the wrapped key, both as text.
	priv, err := sealedbox.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	storedPublic := priv.PublicKey().String()
	storedWrapped, err := e2e.WrapPrivateKey(key, priv)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(storedWrapped[:24])

	// App, later: unwrap, checking the public key the cloud gives back.
	pub, err := sealedbox.ParsePublicKey(storedPublic)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := e2e.UnwrapPrivateKey(key, storedWrapped, pub); err != nil {
		log.Fatal(err)
	}

	// App to device, through the cloud's broker. Each side persists its
	// sequence number (here both start fresh).
	channel := []byte("device 0042/rules")
	sender, err := e2e.NewSender(key, channel, 0)
	if err != nil {
		log.Fatal(err)
	}
	msg, err := sender.Seal([]byte("fan on above 30"))
	if err != nil {
		log.Fatal(err)
	}

	// Device.
	receiver, err := e2e.NewReceiver(key, channel, 0)
	if err != nil {
		log.Fatal(err)
	}
	got, seq, err := receiver.Open(msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("device got message %d: %s\n", seq, got)
	_, _, err = receiver.Open(msg)
	fmt.Println("replayed:", errors.Is(err, e2e.ErrReplay))

	// Output:
	// latch_wk_mlkem768x25519_
	// device got message 1: fan on above 30
	// replayed: true
}

// A cloud that swaps the stored public key for its own, so that it could
// read what is sealed from then on, is caught when the app unwraps.
func ExampleUnwrapPrivateKey_swappedPublicKey() {
	key := e2e.GenerateKey()
	appKey, _ := sealedbox.GenerateKey()
	wrapped, _ := e2e.WrapPrivateKey(key, appKey)

	cloudKey, _ := sealedbox.GenerateKey()
	_, err := e2e.UnwrapPrivateKey(key, wrapped, cloudKey.PublicKey())
	fmt.Println(err)
	fmt.Println(errors.Is(err, e2e.ErrKeyMismatch))

	// Output:
	// e2e: public key does not belong to the wrapped private key
	// true
}

// The end-to-end key as text, for a file, a JSON field or a secrets
// manager: a prefix names what it is, and a checksum catches a key
// mistyped, cut short or pasted in the wrong place. Printing the key shows
// none of it.
func ExampleParseKey() {
	key := e2e.GenerateKey()
	text, err := key.MarshalText()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(text[:10]), len(text))
	fmt.Println(key)

	// Later: parse it back.
	again, err := e2e.ParseKey(string(text))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Equal(key))

	// A wrapped key pasted where the end-to-end key belongs.
	priv, _ := sealedbox.X25519().GenerateKey()
	wrapped, _ := e2e.WrapPrivateKey(key, priv)
	fmt.Println(wrapped[:16], len(wrapped))
	_, err = e2e.ParseKey(wrapped)
	fmt.Println(errors.Is(err, e2e.ErrInvalidKey))

	// Output:
	// latch_e2e_ 64
	// e2e.Key(…)
	// true
	// latch_wk_x25519_ 174
	// true
}
