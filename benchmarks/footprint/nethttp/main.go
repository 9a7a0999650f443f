// Command nethttp is the baseline of BenchmarkDeviceBinary: the same job as
// footprint/latch with net/http alone. It reads a request definition (method,
// URL, headers, body) from the file named by its argument, or from standard
// input, sends the request with a plain net/http client (TLS 1.2 at least,
// system roots, a timeout) and prints the response status and body size.
// It has no security levels, pinning, validation or OAuth.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/latchsec/latch/benchmarks/footprint/internal/prog"
)

type definition struct {
	Method  string `json:"method"`
	URL     string `json:"url"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	Body string `json:"body"`
}

func main() { prog.Main("nethttp", run) }

func run() error {
	in, err := prog.Input()
	if err != nil {
		return err
	}
	defer in.Close()
	var def definition
	if err := json.NewDecoder(io.LimitReader(in, 1<<20)).Decode(&def); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, def.Method, def.URL, strings.NewReader(def.Body))
	if err != nil {
		return err
	}
	for _, h := range def.Headers {
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}},
		Timeout:   time.Minute,
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	fmt.Printf("%d %d bytes\n", resp.StatusCode, len(body))
	return nil
}
