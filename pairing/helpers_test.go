package pairing

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/latchsec/latch/internal/testclock"
	"github.com/latchsec/latch/sealedbox/e2e"
	"github.com/stretchr/testify/require"
)

// testKDF is the smallest work factor the package accepts, so that tests
// run Argon2id quickly.
var testKDF = KDFParams{Time: minKDFTime, MemoryKiB: minKDFMemoryKiB, Threads: 1}

var testProvisioning = Provisioning{
	AppKey:      "ak_0123456789",
	AppSecret:   "as_secret-value-never-in-errors",
	PlatformURL: "https://platform.example/",
	Settings:    []byte(`{"deviceId":"d-1"}`),
}

// memStore is an in-memory Store that counts saves.
type memStore struct {
	mu    sync.Mutex
	s     State
	saves int
}

func (m *memStore) Load() (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s, nil
}

func (m *memStore) Save(s State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = s
	m.saves++
	return nil
}

func (m *memStore) state() State {
	s, _ := m.Load()
	return s
}

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// fixture is a device with its code, record, store and clock, in pairing
// mode.
type fixture struct {
	code  SetupCode
	rec   *Record
	store Store
	clock *testclock.Clock
	dev   *Device
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	code := NewSetupCode()
	rec, err := NewRecord(code, "dev-0001", testKDF)
	require.NoError(t, err)
	f := &fixture{code: code, rec: rec, store: &memStore{}, clock: testclock.New(t0)}
	f.dev = f.device()
	require.NoError(t, f.dev.OpenWindow())
	return f
}

// device returns a new Device over the fixture's record, store and clock:
// the device after a restart.
func (f *fixture) device() *Device {
	return &Device{Record: f.rec, Store: f.store, Now: f.clock.Now}
}

func (f *fixture) failures(t testing.TB) int {
	s, err := f.store.Load()
	require.NoError(t, err)
	return s.Failures
}

// outcome is what each side of one pairing returned.
type outcome struct {
	appKey *e2e.Key
	appErr error
	dev    *DeviceResult
	devErr error
}

// pairOver runs the app with code against dev over a connected pair of
// links, both closed at the end.
func pairOver(t testing.TB, dev *Device, code SetupCode, appConn, devConn net.Conn) outcome {
	t.Helper()
	ctx := context.Background()
	var o outcome
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		o.dev, o.devErr = dev.Pair(ctx, devConn)
		devConn.Close()
	}()
	var app App
	o.appKey, o.appErr = app.Pair(ctx, appConn, code, testProvisioning)
	appConn.Close()
	wg.Wait()
	return o
}

func pair(t testing.TB, dev *Device, code SetupCode) outcome {
	a, d := net.Pipe()
	return pairOver(t, dev, code, a, d)
}

// wrongCode returns a valid code other than c.
func wrongCode(c SetupCode) SetupCode {
	for {
		w := NewSetupCode()
		if w != c {
			return w
		}
	}
}
