package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchsec/latch/internal/interop"
	"github.com/latchsec/latch/pairing"
	"github.com/stretchr/testify/require"
)

// TestPairProvision makes a code and a record, checks the files' modes and
// contents, and pairs an app holding the code with a device holding the
// record.
func TestPairProvision(t *testing.T) {
	dir := t.TempDir()
	rec, code := filepath.Join(dir, "dev.record"), filepath.Join(dir, "dev.code")
	qrFile := filepath.Join(dir, "dev.png")
	r := latch(t, nil, "pair", "provision", "--device-id", "dev-0001", "--record", rec, "--code", code, "--qr", qrFile, "--kdf-memory", "8", "--kdf-time", "1").ok(t)
	require.Contains(t, r.stdout, "wrote "+rec)

	for _, f := range []string{rec, code, qrFile} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	text, err := os.ReadFile(code)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	require.Len(t, lines, 2)
	printed, err := pairing.ParseSetupCode(lines[0])
	require.NoError(t, err)
	scanned, err := pairing.ParseSetupCode(lines[1])
	require.NoError(t, err)
	require.Equal(t, printed, scanned)
	img, err := os.ReadFile(qrFile)
	require.NoError(t, err)
	require.Equal(t, lines[1], interop.ScanQR(t, img), "zbarimg reads the QR payload from the PNG")
	require.NotContains(t, r.stdout, lines[0], "the code is not printed")

	b, err := os.ReadFile(rec)
	require.NoError(t, err)
	record, err := pairing.ParseRecord(b)
	require.NoError(t, err)
	require.Equal(t, "dev-0001", record.DeviceID())
	require.Equal(t, pairing.KDFParams{Time: 1, MemoryKiB: 8 << 10, Threads: 1}, record.KDF())
	digits := strings.ReplaceAll(lines[0], "-", "")
	require.NotContains(t, string(b), digits[:8], "the record does not hold the code")

	// The code pairs with the record.
	dev := &pairing.Device{Record: record, Store: pairing.FileStore{Path: filepath.Join(dir, "state")}}
	require.NoError(t, dev.OpenWindow())
	a, d := net.Pipe()
	done := make(chan error, 1)
	go func() { _, err := dev.Pair(context.Background(), d); d.Close(); done <- err }()
	var app pairing.App
	_, err = app.Pair(context.Background(), a, printed, pairing.Provisioning{AppKey: "k", AppSecret: "s", PlatformURL: "https://p.example/"})
	a.Close()
	require.NoError(t, err)
	require.NoError(t, <-done)

	// Never overwritten, and when one file exists neither is written.
	latch(t, nil, "pair", "provision", "--record", rec, "--code", filepath.Join(dir, "other.code")).fails(t, exitFailure, "dev.record already exists; refusing to overwrite it")
	_, err = os.Stat(filepath.Join(dir, "other.code"))
	require.ErrorIs(t, err, os.ErrNotExist)
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "other.record"), "--code", code).fails(t, exitFailure, "dev.code already exists")
	_, err = os.Stat(filepath.Join(dir, "other.record"))
	require.ErrorIs(t, err, os.ErrNotExist)
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "r2"), "--code", filepath.Join(dir, "c2"), "--qr", qrFile).fails(t, exitFailure, "dev.png already exists")
	for _, f := range []string{"r2", "c2"} {
		_, err = os.Stat(filepath.Join(dir, f))
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	after, err := os.ReadFile(code)
	require.NoError(t, err)
	require.Equal(t, text, after)
	for _, bad := range []result{
		latch(t, nil, "pair", "provision", "--record", rec, "--code", filepath.Join(dir, "x.code")),
	} {
		require.NotContains(t, bad.stderr, digits[:8])
		require.NotContains(t, bad.stderr, lines[0])
	}
}

func TestPairProvisionUsage(t *testing.T) {
	dir := t.TempDir()
	latch(t, nil, "pair", "provision").fails(t, exitUsage, "give --record FILE and --code FILE")
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "r")).fails(t, exitUsage, "give --record FILE and --code FILE")
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "r"), "--code", filepath.Join(dir, "c"), "--kdf-memory", "1").fails(t, exitUsage, "out of range")
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "r"), "--code", filepath.Join(dir, "c"), "--kdf-memory", "100000").fails(t, exitUsage, "out of range")
	// 2^22+8 MiB is 8 MiB once wrapped around in a uint32 of KiB.
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "r"), "--code", filepath.Join(dir, "c"), "--kdf-memory", "4194312").fails(t, exitUsage, "out of range")
	latch(t, nil, "pair", "provision", "--record", filepath.Join(dir, "r"), "--code", filepath.Join(dir, "c"), "--device-id", strings.Repeat("x", 65)).fails(t, exitFailure, "device id")
	_, err := os.Stat(filepath.Join(dir, "r"))
	require.ErrorIs(t, err, os.ErrNotExist)
	r := latch(t, nil, "pair", "provision", "--help").ok(t)
	require.Contains(t, r.stdout, "latch pair provision --device-id")
}
