// Package httpx is the small HTTP client helper shared by the checks that
// talk HTTP (alerts, metrics, httpcheck): a client that sends a
// User-Agent of "opsbot/<version>" and, when configured, a bearer token or
// basic-auth credentials; redaction of credentials from URLs before they
// appear in errors; and a classification of transport errors into short,
// specific reasons ("connection refused", "timed out").
//
// Secrets are passed in as values by the caller (the config layer reads them
// from environment variables). They are held as Secret, which never prints
// its value, and are never logged.
package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Secret is a credential. Its String, GoString, MarshalText and MarshalJSON
// methods print "<redacted>" (or "" when empty) so that it cannot leak into
// logs or errors by accident; use Reveal to get the value.
type Secret string

const redacted = "<redacted>"

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string { return s.mask() }

// GoString implements fmt.GoStringer without revealing the secret.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.mask()) }

// MarshalText implements encoding.TextMarshaler without revealing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

// MarshalJSON implements json.Marshaler without revealing the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return fmt.Appendf(nil, "%q", s.mask()), nil }

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// UserAgent returns the User-Agent header value for version: "opsbot/<version>"
// ("opsbot/dev" when version is empty).
func UserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "opsbot/" + version
}

// Options configures a client built by NewClient.
type Options struct {
	// Version goes into the User-Agent header ("opsbot/<version>").
	Version string
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken Secret
	// Username and Password, when Username is set, are sent as basic
	// auth. BearerToken wins when both are set.
	Username string
	Password Secret
	// InsecureSkipVerify disables TLS certificate verification.
	InsecureSkipVerify bool
}

// NewClient returns an *http.Client that sends the User-Agent and the
// credentials of o with every request. It has no overall timeout: callers
// bound each request with its context.
//
// When credentials are configured, the client does not follow redirects to
// another host (the redirect response itself is returned), so a token meant
// for Prometheus is never sent elsewhere.
func NewClient(o Options) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if o.InsecureSkipVerify {
		if base.TLSClientConfig == nil {
			base.TLSClientConfig = &tls.Config{}
		}
		base.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // opted in by configuration
	}
	c := &http.Client{Transport: NewTransport(base, o)}
	if o.BearerToken != "" || o.Username != "" {
		c.CheckRedirect = sameHostRedirects
	}
	return c
}

// sameHostRedirects follows redirects within the first request's host and
// stops (returning the redirect response) at any other host.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if len(via) > 0 && req.URL.Host != via[0].URL.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// Transport is an http.RoundTripper that adds the User-Agent and credentials
// of its Options to every request it sends. It applies credentials to every
// request, whatever the host: use NewClient, which refuses cross-host
// redirects when credentials are set.
type Transport struct {
	base      http.RoundTripper
	userAgent string
	bearer    Secret
	username  string
	password  Secret
}

// NewTransport wraps base (http.DefaultTransport when nil) with the headers
// of o. o.InsecureSkipVerify is ignored here: it belongs to base.
func NewTransport(base http.RoundTripper, o Options) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{base: base, userAgent: UserAgent(o.Version), bearer: o.BearerToken,
		username: o.Username, password: o.Password}
}

// RoundTrip implements http.RoundTripper. It does not modify req (it sends a
// clone with the extra headers), as the RoundTripper contract requires.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	if r.Header.Get("Authorization") == "" {
		switch {
		case t.bearer != "":
			r.Header.Set("Authorization", "Bearer "+t.bearer.Reveal())
		case t.username != "":
			r.SetBasicAuth(t.username, t.password.Reveal())
		}
	}
	return t.base.RoundTrip(r)
}

// InsecureClient returns a copy of c whose TLS certificate verification is
// disabled, for a target configured with insecureSkipVerify. c's transport
// must be an *http.Transport or a *Transport over one (nil means
// http.DefaultTransport); other transports are refused with an error.
func InsecureClient(c *http.Client) (*http.Client, error) {
	if c == nil {
		c = &http.Client{}
	}
	rt, err := insecureTransport(c.Transport)
	if err != nil {
		return nil, err
	}
	cc := *c
	cc.Transport = rt
	return &cc, nil
}

func insecureTransport(rt http.RoundTripper) (http.RoundTripper, error) {
	switch t := rt.(type) {
	case nil:
		return insecureTransport(http.DefaultTransport)
	case *http.Transport:
		t = t.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // opted in by configuration
		return t, nil
	case *Transport:
		base, err := insecureTransport(t.base)
		if err != nil {
			return nil, err
		}
		tt := *t
		tt.base = base
		return &tt, nil
	default:
		return nil, fmt.Errorf("cannot disable TLS verification on a %T transport", rt)
	}
}

// sensitiveParams are query parameters whose values RedactURL hides.
var sensitiveParams = []string{"token", "access_token", "api_key", "apikey", "key", "password", "secret", "auth", "signature", "sig"}

// RedactURL returns s with the password of its user info and the values of
// credential-like query parameters (token, access_token, api_key, password,
// ...) replaced by "xxxxx", for use in errors and logs. A string that does
// not parse as a URL is returned as "<unparseable URL>", since it may hold
// anything.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparseable URL>"
	}
	return redactURL(u)
}

func redactURL(u *url.URL) string {
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			for _, p := range sensitiveParams {
				if strings.EqualFold(k, p) {
					q[k] = []string{"xxxxx"}
					changed = true
				}
			}
		}
		if changed {
			uu := *u
			uu.RawQuery = q.Encode()
			u = &uu
		}
	}
	return u.Redacted()
}

// Kind classifies a request failure.
type Kind string

// The kinds of request failure Classify knows. They are stable strings,
// usable in fingerprints.
const (
	// KindTimeout: the request's deadline passed.
	KindTimeout Kind = "timeout"
	// KindCanceled: the request's context was cancelled.
	KindCanceled Kind = "canceled"
	// KindUnreachable: no connection (refused, reset, no route, no such
	// host).
	KindUnreachable Kind = "unreachable"
	// KindTLS: the TLS handshake or certificate verification failed.
	KindTLS Kind = "tls"
	// KindOther: anything else.
	KindOther Kind = "error"
)

// Classify returns the kind of a request error and a short, specific
// description of it without the URL (the caller says what it was talking
// to): "connection refused", "timed out", "no such host", "TLS: x509:
// certificate signed by unknown authority". ctx is the request's context:
// when it is done, its cause says why ("timed out: check deadline exceeded
// after 10s").
func Classify(ctx context.Context, err error) (Kind, string) {
	if err == nil {
		return "", ""
	}
	if ctx != nil && ctx.Err() != nil {
		cause := context.Cause(ctx)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			if cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
				return KindTimeout, "timed out: " + cause.Error()
			}
			return KindTimeout, "timed out"
		}
		if cause != nil && !errors.Is(cause, context.Canceled) {
			return KindCanceled, "cancelled: " + cause.Error()
		}
		return KindCanceled, "cancelled"
	}
	// Unwrap *url.Error: its message repeats the method and URL.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout, "timed out"
	case errors.Is(err, context.Canceled):
		return KindCanceled, "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindUnreachable, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return KindUnreachable, "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return KindUnreachable, "no route to host"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return KindUnreachable, "no such host " + dnsErr.Name
		}
		return KindUnreachable, "DNS lookup of " + dnsErr.Name + " failed: " + dnsErr.Err
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidCert):
		return KindTLS, "TLS: " + err.Error()
	case errors.As(err, &recordErr):
		return KindTLS, "TLS: server did not answer with TLS (is the URL http:// rather than https://?)"
	case errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout, "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindUnreachable, "connection closed by server without a response"
	}
	return KindOther, err.Error()
}

// ReadBody reads at most limit bytes of r. truncated reports that r had more.
func ReadBody(r io.Reader, limit int64) (body []byte, truncated bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true, err
	}
	return body, false, err
}

// Snippet returns the first n bytes of b (cut back to a whole UTF-8
// character), with surrounding white space trimmed, for an error message.
func Snippet(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
		// Drop a character cut in half at the end (at most 3 bytes).
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
}

// Truncate returns s cut to at most n runes, with "…" appended when it was
// cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// CheckURL returns an error unless s is an absolute http or https URL with a
// host. The error quotes s with its credentials redacted.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s is not a valid URL", RedactURL(s))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must be an absolute http:// or https:// URL", redactURL(u))
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", redactURL(u))
	}
	return nil
}
