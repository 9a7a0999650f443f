package integrator

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchsec/latch/internal/reason"
	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/sealedbox"
	"github.com/latchsec/latch/tlspolicy"
)

// KeySetPath is where an integrator publishes its key set on its own host:
// https://<host>/.well-known/latch-integrator-keys.
const KeySetPath = "/.well-known/latch-integrator-keys"

const keySetFormat = "latch-integrator-keys/v1"

// A KeySet is an integrator's verifying keys as published on its host, and
// the host they came from. Its JSON document is
//
//	{
//	  "format": "latch-integrator-keys/v1",
//	  "keys": [
//	    {"kid": "<key id, hex>", "key": "latch_vk_mldsa65ed25519_...",
//	     "notBefore": "2026-01-01T00:00:00Z", "notAfter": "2027-01-01T00:00:00Z"}
//	  ]
//	}
//
// The integrator makes the document with [MarshalKeySet] and serves it at
// [KeySetPath]; the app gets it with [FetchKeySet], pins it (stores Host
// and [KeySet.Document]) and reloads it with [ParseKeySet].
type KeySet struct {
	// Host is the host (and port, if not 443) the set was fetched from: the
	// name to show to the person.
	Host string
	Keys []PublishedKey
	doc  []byte
}

// A PublishedKey is one key of a [KeySet]: a verifying key and the period
// in which statements it signed are accepted.
type PublishedKey struct {
	Key       *sealedbox.VerifyingKey
	NotBefore time.Time
	NotAfter  time.Time
}

type keySetJSON struct {
	Format string       `json:"format"`
	Keys   []keyJSONRow `json:"keys"`
}

type keyJSONRow struct {
	KID       string    `json:"kid"`
	Key       string    `json:"key"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// MarshalKeySet returns the JSON document of a key set, for the integrator
// to serve at [KeySetPath].
func MarshalKeySet(keys []PublishedKey) ([]byte, error) {
	if len(keys) == 0 || len(keys) > maxKeySetKeys {
		return nil, keySetError(fmt.Sprintf("a key set has 1 to %d keys", maxKeySetKeys))
	}
	ks := keySetJSON{Format: keySetFormat}
	for _, k := range keys {
		if k.Key == nil {
			return nil, keySetError("a key is missing")
		}
		id := k.Key.KeyID()
		ks.Keys = append(ks.Keys, keyJSONRow{hex.EncodeToString(id[:]), k.Key.String(), k.NotBefore.UTC(), k.NotAfter.UTC()})
	}
	doc, err := json.MarshalIndent(ks, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := ParseKeySet("example.com", doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// ParseKeySet parses and checks the key set document doc fetched from host.
// It is strict: no unknown or repeated fields, no trailing data, at most
// 64 KiB and 16 keys, each key id the key's own, no key twice, and each
// validity period non-empty. Every error matches [ErrKeySet].
func ParseKeySet(host string, doc []byte) (*KeySet, error) {
	if err := checkHost(host); err != nil {
		return nil, err
	}
	if len(doc) > maxKeySet {
		return nil, keySetError(fmt.Sprintf("document larger than %d bytes", maxKeySet))
	}
	var ks keySetJSON
	if err := strictjson.DecodeLimits(doc, &ks, strictjson.Limits{MaxSize: maxKeySet}); err != nil {
		return nil, keySetError(jsonProblem(err).String())
	}
	if ks.Format != keySetFormat {
		return nil, keySetError("format must be " + keySetFormat)
	}
	if len(ks.Keys) == 0 || len(ks.Keys) > maxKeySetKeys {
		return nil, keySetError(fmt.Sprintf("a key set has 1 to %d keys", maxKeySetKeys))
	}
	set := &KeySet{Host: host, doc: bytes.Clone(doc)}
	seen := map[sealedbox.KeyID]bool{}
	for i, row := range ks.Keys {
		where := fmt.Sprintf("keys[%d]", i)
		k, err := sealedbox.ParseVerifyingKey(row.Key)
		if err != nil {
			return nil, &reason.Fault{Category: ErrKeySet, Detail: where + ".key is not a verifying key", Cause: err}
		}
		id := k.KeyID()
		if row.KID != hex.EncodeToString(id[:]) {
			return nil, keySetError(where + ".kid is not the key's id")
		}
		if seen[id] {
			return nil, keySetError(where + " repeats a key")
		}
		seen[id] = true
		if row.NotBefore.IsZero() || row.NotAfter.IsZero() || !row.NotAfter.After(row.NotBefore) {
			return nil, keySetError(where + " needs notBefore before notAfter")
		}
		set.Keys = append(set.Keys, PublishedKey{k, row.NotBefore, row.NotAfter})
	}
	return set, nil
}

// Document returns the key set's JSON document as fetched, for the app to
// store along with Host and reload with [ParseKeySet].
func (s *KeySet) Document() []byte { return bytes.Clone(s.doc) }

// validAt returns the keys whose validity period contains t.
func (s *KeySet) validAt(t time.Time) []*sealedbox.VerifyingKey {
	var keys []*sealedbox.VerifyingKey
	for _, k := range s.Keys {
		if !t.Before(k.NotBefore) && t.Before(k.NotAfter) {
			keys = append(keys, k.Key)
		}
	}
	return keys
}

// FetchKeySet fetches the key set that the integrator publishes at
// https://host/.well-known/latch-integrator-keys, under tlspolicy's
// TlsWithCACheck (web PKI, host name checked, TLS 1.2 or later), following
// no redirect, not even to another path of the same host, and parses it
// with [ParseKeySet].
//
// The transport is p, whose level must be TlsWithCACheck, as the zero
// Policy is: set its RootCAs to replace the system roots and its Time to
// judge certificates by another clock than time.Now. Any other level, or
// a pinned certificate, is refused with [ErrKeySet].
//
// Call it when the person enables the integration, show the person Host
// (the integrator's name is what the person checks), and pin the result:
// from then on, signed requests are checked against the pinned set only,
// whatever the platform says. Call [KeySet.Refresh] to rotate.
func FetchKeySet(ctx context.Context, host string, p tlspolicy.Policy) (*KeySet, error) {
	if err := checkHost(host); err != nil {
		return nil, err
	}
	if p.SecurityLevel != tlspolicy.TlsWithCACheck || p.PinnedCertificate != "" {
		return nil, keySetError("a key set is fetched at TlsWithCACheck, with no pinned certificate")
	}
	client, err := p.Client()
	if err != nil {
		return nil, reason.Wrap(ErrKeySet, nil, err)
	}
	// No redirect at all, not even on the same host: an open redirect or a
	// path where others can put files (user uploads) would otherwise serve
	// a key set in the integrator's name.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+KeySetPath, nil)
	if err != nil {
		return nil, reason.Wrap(ErrKeySet, nil, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if errors.Is(err, errRedirect) {
		return nil, reason.New(ErrKeySet, errRedirect)
	}
	if err != nil {
		return nil, &reason.Fault{Category: ErrKeySet, Detail: "cannot fetch the key set", Cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, keySetError(fmt.Sprintf("the key set answered status %d", resp.StatusCode))
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySet+1))
	if err != nil {
		return nil, &reason.Fault{Category: ErrKeySet, Detail: "cannot read the key set", Cause: err}
	}
	return ParseKeySet(host, doc)
}

// Refresh fetches the key set again from s.Host, for a key rotation, and
// returns the new set; s is unchanged. The new set replaces the pinned one
// only when the app stores it.
func (s *KeySet) Refresh(ctx context.Context, p tlspolicy.Policy) (*KeySet, error) {
	return FetchKeySet(ctx, s.Host, p)
}

// checkHost requires a host name or address with an optional port: no
// scheme, user, path, query or fragment, and in ASCII, so that the name
// the person reads is the name that is fetched (an internationalized name
// is written in its xn-- form, which shows look-alike letters for what they
// are).
func checkHost(host string) error {
	if host == "" || len(host) > 255 || strings.ContainsAny(host, "/?#@\\ \t\r\n") {
		return keySetError("host must be a host name with an optional port")
	}
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || !asciiHost(u.Hostname()) {
		return keySetError("host must be a host name with an optional port")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return keySetError("host has an invalid port")
		}
	}
	return nil
}
