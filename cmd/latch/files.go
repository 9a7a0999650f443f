package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// readSecretLine reads a one-line secret (a token, a key, a key URI) from a
// file or standard input, without the white space around it.
func (e *env) readSecretLine(name, what string) (string, error) {
	b, err := e.readInput(name, what)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", what)
	}
	return s, nil
}

// writeNewFile writes a file that must not exist yet, with permissions perm.
func writeNewFile(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; refusing to overwrite it", name)
		}
		return pathError(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return pathError(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return pathError(err)
	}
	return nil
}

// replaceFile replaces the content of an existing file atomically (a
// temporary file in the same folder, renamed over it), keeping its
// permissions.
func replaceFile(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return pathError(err)
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".latch-*")
	if err != nil {
		return pathError(err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(st.Mode().Perm()); err != nil {
		f.Close()
		return pathError(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return pathError(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return pathError(err)
	}
	if err := f.Close(); err != nil {
		return pathError(err)
	}
	return pathError(os.Rename(tmp, name))
}

// listFlag is a flag that may be repeated and takes comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
