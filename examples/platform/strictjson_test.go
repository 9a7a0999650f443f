package platform_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAPIRefusesAmbiguousJSON: the API's bodies are read strictly. With
// encoding/json, "EMAIL" filled the field "email" and the last duplicate
// won, so a body could mean one thing to a proxy or a log and another to
// the platform.
func TestAPIRefusesAmbiguousJSON(t *testing.T) {
	e := newEnv(t)
	post := func(path, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, e.p.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for name, body := range map[string]string{
		"member in another case":      `{"email":"good@example.com","password":"a long enough password","EMAIL":"evil@example.com"}`,
		"member only in another case": `{"Email":"evil@example.com","password":"a long enough password"}`,
		"duplicate member":            `{"email":"good@example.com","password":"a long enough password","email":"evil@example.com"}`,
		"escaped duplicate":           `{"email":"good@example.com","password":"a long enough password","\u0065mail":"evil@example.com"}`,
	} {
		t.Run(name, func(t *testing.T) {
			st, b := post("/v1/signup", body)
			require.Equal(t, http.StatusBadRequest, st, b)
			require.Contains(t, b, "invalid_request")
			require.NotContains(t, b, "evil")
		})
	}
	st, b := post("/v1/signup", `{"email":"good@example.com","password":"a long enough password"}`)
	require.Less(t, st, 300, b)
}
