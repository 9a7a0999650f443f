package device

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/latchsec/latch/examples/api"
)

// HTTPSLink reaches the platform's relay over HTTPS with long polling,
// authenticating with the application key and secret (HTTP Basic).
type HTTPSLink struct {
	baseURL     string
	key, secret string
	client      *http.Client
	// Wait is how long one Receive waits at the platform for a message.
	wait time.Duration
}

// NewHTTPSLink returns a link to the platform at baseURL, whose certificate
// chains to roots.
func NewHTTPSLink(baseURL string, roots *x509.CertPool, key, secret string) *HTTPSLink {
	return &HTTPSLink{baseURL: baseURL, key: key, secret: secret, wait: 20 * time.Second,
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		}}}
}

// Receive implements Link.
func (l *HTTPSLink) Receive(ctx context.Context, after int64) ([]api.Message, error) {
	u := l.baseURL + "/v1/device/messages?after=" + strconv.FormatInt(after, 10) + "&wait=" + strconv.Itoa(int(l.wait/time.Second))
	var msgs []api.Message
	err := l.do(ctx, http.MethodGet, u, nil, &msgs)
	return msgs, err
}

// Report implements Link.
func (l *HTTPSLink) Report(ctx context.Context, state any) error {
	b, err := json.Marshal(state)
	if err != nil {
		return err
	}
	return l.do(ctx, http.MethodPost, l.baseURL+"/v1/device/state", b, nil)
}

func (l *HTTPSLink) do(ctx context.Context, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(l.key, l.secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("device: the platform answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out)
}
