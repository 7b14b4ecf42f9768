package testenv

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LogRequest is one request for container logs, as the apiserver forwards
// it to the kubelet (GET /containerLogs/{namespace}/{pod}/{container}).
// Optional parameters the client did not send are nil or false.
type LogRequest struct {
	Namespace, Pod, Container string

	SinceSeconds *int64     // sinceSeconds
	SinceTime    *time.Time // sinceTime (RFC 3339)
	TailLines    *int64     // tailLines
	// LimitBytes is informational: the stub kubelet truncates the stream
	// itself, as the real kubelet does, whatever the LogSource writes.
	LimitBytes *int64
	Timestamps bool   // timestamps: prefix each line with its RFC 3339 time
	Previous   bool   // previous: the last terminated instance's log
	Follow     bool   // follow: keep streaming until ctx is done
	Stream     string // stream (All, Stdout, Stderr) if the client sent it
}

// ErrNoLogs is returned by a LogSource that has nothing for the requested
// container; the stub kubelet answers 404.
var ErrNoLogs = errors.New("no logs for this container")

// LogSource produces container logs for the stub kubelet.
//
// WriteLogs writes the log for req to w, streaming: it should not build the
// whole log in memory. When the client's limitBytes is reached, w returns
// an error from Write; WriteLogs should then return (any error it returns
// after that is ignored). With req.Follow it may block until ctx is done.
// WriteLogs is called concurrently for concurrent requests.
type LogSource interface {
	WriteLogs(ctx context.Context, req LogRequest, w io.Writer) error
}

// LogFunc adapts a function to LogSource.
type LogFunc func(ctx context.Context, req LogRequest, w io.Writer) error

// WriteLogs calls f.
func (f LogFunc) WriteLogs(ctx context.Context, req LogRequest, w io.Writer) error {
	return f(ctx, req, w)
}

// LogLine is one line of a container log.
type LogLine struct {
	// Time is when the line was written; zero means "unknown" (the line
	// passes any since filter and is stamped with the Unix epoch when
	// timestamps are asked for).
	Time time.Time
	// Text is the line without its trailing newline.
	Text string
}

// Logs is a LogSource holding logs per container, set by tests. It is safe
// for concurrent use. The zero value is not usable; use NewLogs.
type Logs struct {
	mu      sync.RWMutex
	entries map[logKey]logEntry
	now     func() time.Time
}

type logKey struct {
	namespace, pod, container string
	previous                  bool
}

type logEntry struct {
	lines []LogLine
	fn    LogFunc
}

// NewLogs returns an empty log registry.
func NewLogs() *Logs { return &Logs{entries: make(map[logKey]logEntry), now: time.Now} }

// SetClock makes the registry answer sinceSeconds from now instead of the
// system clock, as a kubelet whose clock reads now would: tests that move
// time forward move the kubelet's with them. Lines are still returned
// whatever their time's relation to now.
func (l *Logs) SetClock(now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
}

// SetLines sets the current log of a container. Requests are answered the
// way the kubelet does: tailLines first, then sinceSeconds/sinceTime on the
// lines' times, then timestamps, then limitBytes.
func (l *Logs) SetLines(namespace, pod, container string, lines ...LogLine) {
	l.set(logKey{namespace, pod, container, false}, logEntry{lines: lines})
}

// SetPreviousLines sets the log of a container's previous (terminated)
// instance, returned for previous=true.
func (l *Logs) SetPreviousLines(namespace, pod, container string, lines ...LogLine) {
	l.set(logKey{namespace, pod, container, true}, logEntry{lines: lines})
}

// SetText sets the current log of a container from text, one LogLine per
// line, each stamped with the time of the call.
func (l *Logs) SetText(namespace, pod, container, text string) {
	now := time.Now()
	var lines []LogLine
	for _, s := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lines = append(lines, LogLine{Time: now, Text: s})
	}
	l.SetLines(namespace, pod, container, lines...)
}

// SetFunc makes fn produce the logs of a container, current and previous
// (fn sees req.Previous). Use it for large or generated logs.
func (l *Logs) SetFunc(namespace, pod, container string, fn LogFunc) {
	l.set(logKey{namespace, pod, container, false}, logEntry{fn: fn})
	l.set(logKey{namespace, pod, container, true}, logEntry{fn: fn})
}

// ServeLines returns a LogFunc that serves lines as Logs.SetLines does
// (tailLines, sinceSeconds on the system clock or sinceTime, timestamps):
// for a LogFunc registered with SetFunc, e.g. a scenario's.
func ServeLines(lines ...LogLine) LogFunc {
	return func(_ context.Context, req LogRequest, w io.Writer) error {
		return writeLines(req, lines, w, time.Now())
	}
}

// Delete forgets the logs of a container (current and previous).
func (l *Logs) Delete(namespace, pod, container string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, logKey{namespace, pod, container, false})
	delete(l.entries, logKey{namespace, pod, container, true})
}

func (l *Logs) set(k logKey, e logEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[k] = e
}

// WriteLogs implements LogSource.
func (l *Logs) WriteLogs(ctx context.Context, req LogRequest, w io.Writer) error {
	l.mu.RLock()
	e, ok := l.entries[logKey{req.Namespace, req.Pod, req.Container, req.Previous}]
	now := l.now
	l.mu.RUnlock()
	if !ok {
		return ErrNoLogs
	}
	if e.fn != nil {
		return e.fn(ctx, req, w)
	}
	return writeLines(req, e.lines, w, now())
}

// writeLines writes lines filtered as the kubelet does.
func writeLines(req LogRequest, lines []LogLine, w io.Writer, now time.Time) error {
	if req.TailLines != nil && *req.TailLines >= 0 && int64(len(lines)) > *req.TailLines {
		lines = lines[int64(len(lines))-*req.TailLines:]
	}
	var since time.Time
	if req.SinceSeconds != nil {
		since = now.Add(-time.Duration(*req.SinceSeconds) * time.Second)
	} else if req.SinceTime != nil {
		since = *req.SinceTime
	}
	bw := bufio.NewWriter(w)
	for _, ln := range lines {
		if !since.IsZero() && !ln.Time.IsZero() && ln.Time.Before(since) {
			continue
		}
		if req.Timestamps {
			t := ln.Time
			if t.IsZero() {
				t = time.Unix(0, 0)
			}
			bw.WriteString(t.UTC().Format(time.RFC3339Nano))
			bw.WriteByte(' ')
		}
		bw.WriteString(ln.Text)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Kubelet is a stub kubelet: an HTTPS server on 127.0.0.1 answering
// GET /containerLogs/{namespace}/{pod}/{container} from a LogSource. The
// apiserver reaches it through the Node registered by StartKube. Its
// certificate is self-signed; the apiserver does not verify it because it
// runs without --kubelet-certificate-authority.
type Kubelet struct {
	source   LogSource
	srv      *http.Server
	listener net.Listener
	requests atomic.Int64
	bytes    atomic.Int64
	conns    atomic.Int64
	done     chan struct{}

	stopOnce sync.Once
}

// StartKubelet starts a stub kubelet serving logs from source on a free port
// of 127.0.0.1. StartKube starts one itself; use this directly only to test
// the stub or to run several nodes.
func StartKubelet(source LogSource) (*Kubelet, error) {
	cert, err := selfSignedCert("testenv-kubelet")
	if err != nil {
		return nil, fmt.Errorf("kubelet: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kubelet: listen: %w", err)
	}
	k := &Kubelet{source: source, listener: l, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", k.serveLogs)
	k.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // TLS handshake noise from probes
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				k.conns.Add(1)
			}
		},
	}
	go func() {
		defer close(k.done)
		_ = k.srv.ServeTLS(l, "", "")
	}()
	return k, nil
}

// Port is the TCP port the stub listens on (the Node's kubelet endpoint).
func (k *Kubelet) Port() int { return k.listener.Addr().(*net.TCPAddr).Port }

// Requests is how many log requests the stub has received (including
// failed ones): the number of kubelet round trips the code under test made.
func (k *Kubelet) Requests() int64 { return k.requests.Load() }

// Connections is how many TCP connections the stub has accepted: with
// Requests, how well the apiserver reuses its connections to the kubelet.
func (k *Kubelet) Connections() int64 { return k.conns.Load() }

// BytesServed is how many bytes of logs the stub has written.
func (k *Kubelet) BytesServed() int64 { return k.bytes.Load() }

// Close stops the server, cutting open streams. Idempotent.
func (k *Kubelet) Close() error {
	k.stopOnce.Do(func() {
		_ = k.srv.Close()
		<-k.done
	})
	return nil
}

func (k *Kubelet) serveLogs(w http.ResponseWriter, r *http.Request) {
	k.requests.Add(1)
	req, err := parseLogRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cw := &countingWriter{w: w, counter: &k.bytes, limit: -1}
	if req.LimitBytes != nil {
		cw.limit = *req.LimitBytes
	}
	if req.Follow {
		cw.flush = http.NewResponseController(w).Flush
	}
	w.Header().Set("Content-Type", "text/plain")
	err = k.source.WriteLogs(r.Context(), req, cw)
	switch {
	case err == nil, cw.limited, cw.written > 0:
		// Done, truncated at limitBytes, or failed mid-stream (nothing
		// better to do than end the body, as a kubelet would).
	case errors.Is(err, ErrNoLogs):
		http.Error(w, fmt.Sprintf("container %q in pod %q is not available", req.Container, req.Pod), http.StatusNotFound)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// errLimitBytes is returned by countingWriter once limitBytes are written.
var errLimitBytes = errors.New("limitBytes reached")

// countingWriter counts bytes and truncates at limit (if >= 0).
type countingWriter struct {
	w       io.Writer
	counter *atomic.Int64
	limit   int64 // -1: none
	written int64
	limited bool
	flush   func() error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.limited {
		return 0, errLimitBytes
	}
	short := false
	if c.limit >= 0 && c.written+int64(len(p)) > c.limit {
		p = p[:c.limit-c.written]
		short = true
	}
	n, err := c.w.Write(p)
	c.written += int64(n)
	c.counter.Add(int64(n))
	if err == nil && c.flush != nil {
		err = c.flush()
	}
	if err != nil {
		return n, err
	}
	if short {
		c.limited = true
		return n, errLimitBytes
	}
	return n, nil
}

func parseLogRequest(r *http.Request) (LogRequest, error) {
	q := r.URL.Query()
	req := LogRequest{
		Namespace:  r.PathValue("namespace"),
		Pod:        r.PathValue("pod"),
		Container:  r.PathValue("container"),
		Timestamps: q.Get("timestamps") == "true",
		Previous:   q.Get("previous") == "true",
		Follow:     q.Get("follow") == "true",
		Stream:     q.Get("stream"),
	}
	for _, p := range []struct {
		name string
		dst  **int64
	}{{"sinceSeconds", &req.SinceSeconds}, {"tailLines", &req.TailLines}, {"limitBytes", &req.LimitBytes}} {
		if s := q.Get(p.name); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return req, fmt.Errorf("%s: %w", p.name, err)
			}
			*p.dst = &v
		}
	}
	if s := q.Get("sinceTime"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return req, fmt.Errorf("sinceTime: %w", err)
		}
		req.SinceTime = &t
	}
	return req, nil
}

// selfSignedCert returns a self-signed ECDSA serving certificate for
// 127.0.0.1 and localhost.
func selfSignedCert(cn string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
