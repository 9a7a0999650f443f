package pairing

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/latchsec/latch/internal/reason"
)

// State is what a device keeps between pairings, apart from its record:
// the failed attempts it has counted and when its pairing window opened.
// It must survive a restart, or an attacker could reset the counter by
// cutting the power.
type State struct {
	// Failures counts the pairing attempts that reached the point where a
	// guess of the setup code could be tested, and did not succeed since
	// the last success or reset.
	Failures int
	// WindowOpened is when the device last entered pairing mode; the zero
	// time means it is not in pairing mode.
	WindowOpened time.Time
}

// A Store keeps a device's [State]. Load of a store that was never saved
// returns the zero State. Save must be durable when it returns: the device
// counts an attempt in the store before it answers the guess.
type Store interface {
	Load() (State, error)
	Save(State) error
}

// stateMagic starts an encoded state: a context label and version.
var stateMagic = []byte("latch-pairing-state\x00\x01")

const maxFailures = 1 << 20

// MarshalBinary encodes the state: the label "latch-pairing-state", a NUL,
// the version 1, the failures (4 bytes) and the window's opening time in
// Unix nanoseconds (8 bytes, 0 when closed), big-endian.
func (s State) MarshalBinary() ([]byte, error) {
	if s.Failures < 0 || s.Failures > maxFailures {
		return nil, errMalformed("state failure count out of range")
	}
	b := append([]byte(nil), stateMagic...)
	b = binary.BigEndian.AppendUint32(b, uint32(s.Failures))
	var opened int64
	if !s.WindowOpened.IsZero() {
		opened = s.WindowOpened.UnixNano()
		if opened <= 0 {
			return nil, errMalformed("state window time not after 1970")
		}
	}
	return binary.BigEndian.AppendUint64(b, uint64(opened)), nil
}

// UnmarshalBinary decodes a state written by MarshalBinary.
func (s *State) UnmarshalBinary(b []byte) error {
	if len(b) < len(stateMagic) || string(b[:len(stateMagic)-1]) != string(stateMagic[:len(stateMagic)-1]) {
		return errMalformed("not a pairing state")
	}
	if b[len(stateMagic)-1] != stateMagic[len(stateMagic)-1] {
		return reason.Newf(ErrUnsupportedVersion, nil, "state version")
	}
	d := decoder{b: b[len(stateMagic):]}
	failures := d.uint32()
	opened := int64(d.uint64())
	if err := d.finish("state"); err != nil {
		return err
	}
	if failures > maxFailures || opened < 0 {
		return errMalformed("state out of range")
	}
	*s = State{Failures: int(failures)}
	if opened != 0 {
		s.WindowOpened = time.Unix(0, opened)
	}
	return nil
}

// FileStore is a [Store] in one file, written whole to a temporary file
// beside it, synced and renamed over it, with mode 0600; then the
// directory is synced, so that the rename itself survives a power cut.
type FileStore struct {
	Path string
}

// Load reads the state; a missing file is the zero State. A file that
// cannot be read is an error that wraps the I/O error; one that is not a
// state, [ErrMalformed] or [ErrUnsupportedVersion].
func (f FileStore) Load() (State, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, reason.Wrap(errStore, nil, err)
	}
	var s State
	return s, s.UnmarshalBinary(b)
}

// Save replaces the state durably. An error wraps the I/O error.
func (f FileStore) Save(s State) error {
	b, err := s.MarshalBinary()
	if err != nil {
		return err
	}
	if err := f.write(b); err != nil {
		return reason.Wrap(errStore, nil, err)
	}
	return nil
}

// write puts b in a temporary file beside f.Path, syncs it, renames it
// over f.Path and syncs the directory.
func (f FileStore) write(b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".pairing-state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(f.Path))
}

// syncDir makes a rename in dir durable: without it, a power cut just
// after Save returned may bring back the previous file, and with it a
// lower attempt count, although the device already answered the guess.
// Windows cannot sync a directory (and needs not: its rename is
// journaled), so there it does nothing. A variable so that a test can
// watch it.
var syncDir = func(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
