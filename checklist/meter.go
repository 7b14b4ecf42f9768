package checklist

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/opsbot/opsbot/checks"
)

// Meter counts what the checks' HTTP clients do: requests, bytes of pod
// logs read, requests throttled (429). Build wraps every client it makes
// with it (Options.Meter); Run reads it before and after (RunOptions.Meter)
// and puts the difference in the report: the run's own cost. Runs of one
// environment at the same time share the checks, and so the meter: their
// costs then overlap.
type Meter struct {
	calls, logBytes, throttled atomic.Int64
}

// Transport counts the requests made through next (http.DefaultTransport
// when nil).
func (m *Meter) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return meteredTransport{m: m, next: next}
}

// Cost is what the meter has counted so far.
func (m *Meter) Cost() checks.Cost {
	return checks.Cost{Calls: m.calls.Load(), LogBytes: m.logBytes.Load(), Throttled: m.throttled.Load()}
}

// since is the cost counted after before.
func (m *Meter) since(before checks.Cost) checks.Cost {
	now := m.Cost()
	return checks.Cost{Calls: now.Calls - before.Calls, LogBytes: now.LogBytes - before.LogBytes,
		Throttled: now.Throttled - before.Throttled}
}

type meteredTransport struct {
	m    *Meter
	next http.RoundTripper
}

func (t meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.m.calls.Add(1)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		t.m.throttled.Add(1)
	}
	// A pod's logs: GET /api/v1/namespaces/{ns}/pods/{pod}/log.
	if strings.HasSuffix(req.URL.Path, "/log") && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.m.logBytes}
	}
	return resp, nil
}

// wrap is the meter as client-go's transport.WrapperFunc (rest.Config.Wrap).
func (m *Meter) wrap(rt http.RoundTripper) http.RoundTripper { return m.Transport(rt) }

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
