package platform

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchsec/latch/examples/api"
	"github.com/latchsec/latch/internal/strictjson"
	"github.com/latchsec/latch/mqttauth"
	"github.com/latchsec/latch/token"
)

// Limits of the relay.
const (
	maxMessageSize = 64 << 10 // an end-to-end message
	maxStateSize   = 4 << 10  // a device's state report
	maxWait        = 25 * time.Second
	maxBatch       = 100
	maxQueued      = 100 // messages kept per device for the HTTPS relay; older ones are dropped
)

// devices keeps the people's devices and relays end-to-end messages to
// them: over the broker, and over HTTPS for a device that fetches them
// with its key and secret.
type devices struct {
	base
	broker      *broker
	revocations token.Revocations // where a removed device's secret is revoked

	mu      sync.Mutex
	waiters map[string][]chan struct{} // fetches waiting for a device's next message
}

func (ds *devices) create(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	var req api.CreateDeviceRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Name == "" || len(req.Name) > 100 {
		writeError(w, http.StatusBadRequest, "invalid_request", "a name of 1 to 100 bytes is required")
		return
	}
	ctx := r.Context()
	id := newID("dv_")
	// The key and secret (mqttauth): the secret is a token for the MQTT
	// audience bound to the owner and this device, without expiry:
	// revoking it is its off switch.
	cred, err := ds.broker.provisioner.Issue(ctx, mqttauth.KeyRequest{App: c.Subject, Device: id})
	if err == nil {
		_, err = ds.db.ExecContext(ctx, `INSERT INTO tokens (id, subject, name, scopes, apps, created, expires) VALUES (?, ?, ?, ?, ?, ?, 0)`,
			cred.SecretID, "device:"+id, "device secret", mqttauth.ConnectScope, c.Subject, ds.now().Unix())
	}
	if err == nil {
		_, err = ds.db.ExecContext(ctx, `INSERT INTO devices (id, owner, name, key, secret_id, created) VALUES (?, ?, ?, ?, ?, ?)`,
			id, c.Subject, req.Name, cred.Key, cred.SecretID, ds.now().Unix())
	}
	if err != nil {
		ds.internalError(w, r, err)
		return
	}
	ds.audit.Info("device added", "user", c.Subject, "device", id, "key", cred.Key)
	writeJSON(w, http.StatusCreated, api.DeviceCredentials{ID: id, App: c.Subject, Key: cred.Key, Secret: cred.Secret,
		ClientID: c.Subject + ":" + id, BrokerURL: ds.broker.url})
}

func (ds *devices) listRoute(w http.ResponseWriter, r *http.Request) {
	list, err := ds.list(r.Context(), claims(r).Subject)
	if err != nil {
		ds.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (ds *devices) list(ctx context.Context, owner string) ([]api.Device, error) {
	rows, err := ds.db.QueryContext(ctx, `SELECT id, name, key, state, created FROM devices WHERE owner = ? ORDER BY created, id`, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []api.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, *d)
	}
	return list, rows.Err()
}

func scanDevice(s interface{ Scan(...any) error }) (*api.Device, error) {
	var d api.Device
	var state string
	var created int64
	if err := s.Scan(&d.ID, &d.Name, &d.Key, &state, &created); err != nil {
		return nil, err
	}
	if state != "" {
		d.State = json.RawMessage(state)
	}
	d.Created = time.Unix(created, 0).UTC()
	return &d, nil
}

func (ds *devices) get(w http.ResponseWriter, r *http.Request) {
	d, err := scanDevice(ds.db.QueryRowContext(r.Context(), `SELECT id, name, key, state, created FROM devices WHERE id = ? AND owner = ?`,
		r.PathValue("id"), claims(r).Subject))
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "not_found", "no such device")
		return
	}
	if err != nil {
		ds.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// remove revokes the device's secret, forgets the device and ends
// its broker session at once.
func (ds *devices) remove(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	ctx := r.Context()
	var secretID string
	err := ds.db.QueryRowContext(ctx, `SELECT secret_id FROM devices WHERE id = ? AND owner = ?`, r.PathValue("id"), c.Subject).Scan(&secretID)
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "not_found", "no such device")
		return
	}
	if err == nil {
		_, err = ds.db.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = ?`, secretID)
	}
	if err == nil {
		err = ds.revocations.RevokeID(ctx, secretID, time.Time{})
	}
	if err == nil {
		_, err = ds.db.ExecContext(ctx, `DELETE FROM devices WHERE id = ?`, r.PathValue("id"))
	}
	if err != nil {
		ds.internalError(w, r, err)
		return
	}
	ended := ds.broker.hook.Recheck(ctx)
	ds.audit.Info("device removed", "user", c.Subject, "device", r.PathValue("id"), "sessions_ended", ended)
	w.WriteHeader(http.StatusNoContent)
}

// sendMessage relays an end-to-end message from the owner's app to the
// device. The platform stores the bytes as they came; it cannot read them,
// and a change or a replay is refused by the device.
func (ds *devices) sendMessage(w http.ResponseWriter, r *http.Request) {
	c := claims(r)
	var req api.MessageRequest
	if !readJSON(w, r, &req) {
		return
	}
	if len(req.Message) == 0 || len(req.Message) > maxMessageSize {
		writeError(w, http.StatusBadRequest, "invalid_request", "a message of 1 byte to 64 KiB is required")
		return
	}
	device := r.PathValue("id")
	var n int
	if err := ds.db.QueryRowContext(r.Context(), `SELECT count(*) FROM devices WHERE id = ? AND owner = ?`, device, c.Subject).Scan(&n); err != nil || n == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no such device")
		return
	}
	seq, err := ds.publish(r.Context(), device, req.Message)
	if err != nil {
		ds.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, api.MessageResponse{Seq: seq})
}

// publish queues a message for a device and wakes its waiting fetch.
func (ds *devices) publish(ctx context.Context, device string, body []byte) (int64, error) {
	res, err := ds.db.ExecContext(ctx, `INSERT INTO messages (device, body) VALUES (?, ?)`, device, body)
	if err != nil {
		return 0, err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	// A bounded queue per device: one offline for long gets the latest
	// maxQueued messages over HTTPS.
	if _, err := ds.db.ExecContext(ctx, `DELETE FROM messages WHERE device = ? AND seq <
		(SELECT seq FROM messages WHERE device = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`, device, device, maxQueued-1); err != nil {
		return 0, err
	}
	ds.mu.Lock()
	for _, ch := range ds.waiters[device] {
		close(ch)
	}
	delete(ds.waiters, device)
	ds.mu.Unlock()
	var owner string
	if err := ds.db.QueryRowContext(ctx, `SELECT owner FROM devices WHERE id = ?`, device).Scan(&owner); err != nil {
		return 0, err
	}
	// QoS 1: the broker keeps it for a device whose session is offline.
	return seq, ds.broker.server.Publish(api.RulesTopic(owner, device), body, false, 1)
}

// auth authenticates a device on the HTTPS relay by its application
// key and secret (HTTP Basic), with the guard the broker uses: the same
// pair a device gives the broker as user name and password.
func (ds *devices) auth(h func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, secret, ok := r.BasicAuth()
		var device, owner string
		err := errors.New("no credentials")
		if ok {
			err = ds.db.QueryRowContext(r.Context(), `SELECT id, owner FROM devices WHERE key = ?`, key).Scan(&device, &owner)
		}
		if err == nil {
			var pr *mqttauth.Principal
			pr, err = ds.broker.guard.Authenticate(r.Context(), owner+":"+device, key, secret)
			if err == nil && pr.Device != device {
				err = errors.New("secret belongs to another device")
			}
		}
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				err = errors.New("unknown application key")
			}
			// Only a well-formed key is logged, as mqttauth/mochi does: a
			// device that swapped its key and secret must not have its
			// secret written to the log. The reason holds no secret.
			if !mqttauth.ValidKey(key) {
				key = "(not a key)"
			}
			ds.audit.Warn("device refused", "key", key, "reason", err.Error())
			w.Header().Set("WWW-Authenticate", `Basic realm="latch-example devices"`)
			writeError(w, http.StatusUnauthorized, "invalid_client", "wrong application key or secret")
			return
		}
		h(w, r, device)
	})
}

// messages answers a device with its messages after the sequence
// number "after", waiting up to "wait" seconds (long polling) when there
// are none yet.
func (ds *devices) messages(w http.ResponseWriter, r *http.Request, device string) {
	after, err1 := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	wait, err2 := strconv.Atoi(r.URL.Query().Get("wait"))
	if err1 != nil || err2 != nil || after < 0 || wait < 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "after and wait must be numbers")
		return
	}
	timeout := min(time.Duration(wait)*time.Second, maxWait)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	for {
		// Register before looking, so that a message published between
		// the query and the wait is not missed.
		ch := make(chan struct{})
		ds.mu.Lock()
		ds.waiters[device] = append(ds.waiters[device], ch)
		ds.mu.Unlock()
		msgs, err := ds.fetch(r.Context(), device, after)
		if err != nil {
			ds.internalError(w, r, err)
			return
		}
		if len(msgs) > 0 || timeout == 0 {
			writeJSON(w, http.StatusOK, msgs)
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			ds.mu.Lock()
			ws := ds.waiters[device]
			for i, c := range ws {
				if c == ch {
					ds.waiters[device] = append(ws[:i:i], ws[i+1:]...)
					break
				}
			}
			ds.mu.Unlock()
			writeJSON(w, http.StatusOK, []api.Message{})
			return
		}
	}
}

func (ds *devices) fetch(ctx context.Context, device string, after int64) ([]api.Message, error) {
	rows, err := ds.db.QueryContext(ctx, `SELECT seq, body FROM messages WHERE device = ? AND seq > ? ORDER BY seq LIMIT ?`, device, after, maxBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	msgs := []api.Message{}
	for rows.Next() {
		var m api.Message
		if err := rows.Scan(&m.Seq, &m.Body); err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// state stores what the device reports about itself: a JSON object
// the device made (it never contains secrets; see examples/device).
func (ds *devices) state(w http.ResponseWriter, r *http.Request, device string) {
	var state map[string]any
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStateSize))
	if err == nil {
		err = strictjson.DecodeLimits(body, &state, strictjson.Limits{MaxSize: maxStateSize})
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "state must be a JSON object of at most 4 KiB")
		return
	}
	if err := ds.saveState(r.Context(), "", device, state); err != nil {
		ds.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// saveState stores a device's report; owner, when not empty, must be the
// device's.
func (ds *devices) saveState(ctx context.Context, owner, device string, state map[string]any) error {
	b, err := json.Marshal(state)
	if err != nil {
		return err
	}
	if _, err := ds.db.ExecContext(ctx, `UPDATE devices SET state = ? WHERE id = ? AND (? = '' OR owner = ?)`, string(b), device, owner, owner); err != nil {
		return err
	}
	ds.audit.Info("device reported", "device", device, "fields", strings.Join(sortedKeys(state), ","))
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
