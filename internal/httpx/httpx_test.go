package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	opts := Options{BearerToken: s, Password: s}
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %s %+v %#v", s, s, opts, opts), mustJSON(t, opts),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2" || Secret("").String() != "" {
		t.Errorf("Reveal %q, empty %q", s.Reveal(), Secret("").String())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClientHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header }))
	defer s.Close()
	tests := []struct {
		opts     Options
		wantAuth string
	}{
		{Options{Version: "1.2.3"}, ""},
		{Options{Version: "1.2.3", BearerToken: "tok"}, "Bearer tok"},
		{Options{Version: "1.2.3", Username: "ops", Password: "pw"}, "Basic b3BzOnB3"},
	}
	for _, tt := range tests {
		resp, err := NewClient(tt.opts).Get(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := <-got
		if h.Get("User-Agent") != "opsbot/1.2.3" || h.Get("Authorization") != tt.wantAuth {
			t.Errorf("headers %v, want Authorization %q", h, tt.wantAuth)
		}
	}
}

func TestNoCredentialsToOtherHosts(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request reached the other host with Authorization %q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			http.Redirect(w, r, "/final", http.StatusFound)
			return
		}
		if r.URL.Path == "/final" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	defer s.Close()
	c := NewClient(Options{BearerToken: "tok"})
	resp, err := c.Get(s.URL + "/away")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("cross-host redirect: status %d, want the 302 itself", resp.StatusCode)
	}
	resp, err = c.Get(s.URL + "/same")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("same-host redirect: status %d, want 204", resp.StatusCode)
	}
}

func TestInsecureClient(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "opsbot/x" {
			t.Errorf("User-Agent %q lost", r.Header.Get("User-Agent"))
		}
	}))
	defer s.Close()
	c := NewClient(Options{Version: "x"})
	if _, err := c.Get(s.URL); err == nil {
		t.Fatal("self-signed certificate accepted")
	} else if kind, msg := Classify(context.Background(), err); kind != KindTLS || !strings.HasPrefix(msg, "TLS: ") {
		t.Errorf("Classify = %s %q", kind, msg)
	}
	ic, err := InsecureClient(c)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ic.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := InsecureClient(&http.Client{Transport: roundTripFunc(nil)}); err == nil {
		t.Error("unknown transport accepted")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRedactURL(t *testing.T) {
	tests := map[string]string{
		"http://am:9093":                              "http://am:9093",
		"https://ops:s3cret@am:9093/prefix":           "https://ops:xxxxx@am:9093/prefix",
		"https://prom/api?token=abc&query=up":         "https://prom/api?query=up&token=xxxxx",
		"http://x/%zz":                                "<unparseable URL>",
		"https://ops@am:9093":                         "https://ops@am:9093",
		"https://grafana/d/x?orgId=1&ACCESS_TOKEN=zz": "https://grafana/d/x?ACCESS_TOKEN=xxxxx&orgId=1",
	}
	for in, want := range tests {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err := http.Get(closed.URL)
	if kind, msg := Classify(context.Background(), err); kind != KindUnreachable || msg != "connection refused" {
		t.Errorf("refused: %s %q", kind, msg)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("checklist cancelled by user"))
	if kind, msg := Classify(ctx, context.Canceled); kind != KindCanceled || msg != "cancelled: checklist cancelled by user" {
		t.Errorf("cancelled: %s %q", kind, msg)
	}
	ctx, cancel2 := context.WithTimeoutCause(context.Background(), 0, errors.New("no answer within 5s"))
	defer cancel2()
	<-ctx.Done()
	if kind, msg := Classify(ctx, ctx.Err()); kind != KindTimeout || msg != "timed out: no answer within 5s" {
		t.Errorf("timeout: %s %q", kind, msg)
	}
	if kind, msg := Classify(context.Background(), errors.New("boom")); kind != KindOther || msg != "boom" {
		t.Errorf("other: %s %q", kind, msg)
	}
}

func TestReadBodySnippetTruncate(t *testing.T) {
	b, truncated, err := ReadBody(strings.NewReader("0123456789"), 4)
	if string(b) != "0123" || !truncated || err != nil {
		t.Errorf("ReadBody = %q %v %v", b, truncated, err)
	}
	b, truncated, _ = ReadBody(strings.NewReader("0123"), 4)
	if string(b) != "0123" || truncated {
		t.Errorf("ReadBody exact = %q %v", b, truncated)
	}
	if got := Snippet([]byte("  héllo  "), 3); got != "h" { // "é" cut in half is dropped
		t.Errorf("Snippet = %q", got)
	}
	if got := Truncate("héllo", 2); got != "hé…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("hé", 2); got != "hé" {
		t.Errorf("Truncate short = %q", got)
	}
}

func TestCheckURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://a:1/x":         "",
		"https://a":            "",
		"a:9090":               `"a:9090" must be an absolute http:// or https:// URL`,
		"http://":              `"http:" has no host`,
		"ftp://u:pw@host/file": `"ftp://u:xxxxx@host/file" must be an absolute http:// or https:// URL`,
	} {
		err := CheckURL(in)
		if (err == nil) != (want == "") || (err != nil && err.Error() != want) {
			t.Errorf("CheckURL(%q) = %v, want %q", in, err, want)
		}
	}
}
