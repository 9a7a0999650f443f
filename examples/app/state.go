package app

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/latchsec/latch/integrator"
)

// stateFormat names the layout of the app's state file.
const stateFormat = "latch-example-app-state/v1"

// stateFile is the JSON form of what the app keeps for signed requests:
// the key set pinned per integration (its host and document as fetched)
// and the highest version accepted per request, with its digest.
type stateFile struct {
	Format   string                  `json:"format"`
	KeySets  map[string]pinnedKeySet `json:"keySets"`
	Versions []acceptedRow           `json:"versions"`
}

type pinnedKeySet struct {
	Host     string `json:"host"`
	Document []byte `json:"document"`
}

type acceptedRow struct {
	IntegrationID string `json:"integrationId"`
	RequestID     string `json:"requestId"`
	Version       uint64 `json:"version"`
	Digest        string `json:"digest"` // hex
}

// UseStateFile makes the app keep its signed-request state, the pinned key
// sets and the highest version accepted per request, in the file at path:
// it reads what the file holds (nothing if there is no file yet), and from
// then on writes every change to the file, durably, before it acts on it.
// An app restarted on the same file still refuses an older version of a
// request, and still requires the pinned integrations' requests to be
// signed. Without a state file, a restart forgets both, and the cloud can
// then serve an older version or an unsigned request in place of a signed
// one. Call it once, before anything else of signed requests.
//
// The file is the app's own, like its other state; a copy restored from an
// older backup reopens rollback to what it held.
func (p *Phone) UseStateFile(path string) error {
	data, err := os.ReadFile(path)
	var st stateFile
	switch {
	case errors.Is(err, os.ErrNotExist):
		st.Format = stateFormat
	case err != nil:
		return fmt.Errorf("app: reading the state file: %w", err)
	default:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&st); err != nil || st.Format != stateFormat {
			return errors.New("app: the state file is not in the app's format")
		}
	}
	verifiers := map[string]*integrator.StatementVerifier{}
	for id, pin := range st.KeySets {
		set, err := integrator.ParseKeySet(pin.Host, pin.Document)
		if err != nil {
			return fmt.Errorf("app: the state file's key set of integration %q: %w", id, err)
		}
		verifiers[id] = &integrator.StatementVerifier{Keys: set}
	}
	versions := map[[2]string]accepted{}
	for _, row := range st.Versions {
		var a accepted
		d, err := hex.DecodeString(row.Digest)
		if err != nil || len(d) != len(a.Digest) || row.Version == 0 {
			return errors.New("app: the state file holds a malformed accepted version")
		}
		k := [2]string{row.IntegrationID, row.RequestID}
		if _, ok := versions[k]; ok {
			return errors.New("app: the state file repeats a request")
		}
		a.Version = row.Version
		copy(a.Digest[:], d)
		versions[k] = a
	}

	s := &p.signed
	s.mu.Lock()
	defer s.mu.Unlock()
	s.path = path
	s.verifiers = verifiers
	s.pins = st.KeySets
	if s.pins == nil {
		s.pins = map[string]pinnedKeySet{}
	}
	s.accepted = versions
	for _, v := range verifiers {
		v.Versions = s
	}
	return nil
}

// save writes the state to the state file, if there is one: to a temporary
// file, synced, then renamed over the old one, so that a crash leaves
// either the old state or the new. s.mu is held.
func (s *signedState) save() error {
	if s.path == "" {
		return nil
	}
	st := stateFile{Format: stateFormat, KeySets: s.pins}
	for k, a := range s.accepted {
		st.Versions = append(st.Versions, acceptedRow{k[0], k[1], a.Version, hex.EncodeToString(a.Digest[:])})
	}
	slices.SortFunc(st.Versions, func(a, b acceptedRow) int {
		if c := strings.Compare(a.IntegrationID, b.IntegrationID); c != 0 {
			return c
		}
		return strings.Compare(a.RequestID, b.RequestID)
	})
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), ".app-state-*")
	if err != nil {
		return fmt.Errorf("app: writing the state file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("app: writing the state file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("app: writing the state file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("app: writing the state file: %w", err)
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		return fmt.Errorf("app: writing the state file: %w", err)
	}
	return nil
}
