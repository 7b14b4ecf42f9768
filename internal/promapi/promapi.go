// Package promapi is the small Prometheus HTTP API client the checks share:
// instant queries, range queries and series look-ups, decoded with
// github.com/prometheus/common/model. Errors say what failed (what
// Prometheus said, or why it could not be asked), with credentials redacted
// from the URL.
package promapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// MaxBody bounds the size of one answer.
const MaxBody = 32 << 20

// Client asks one Prometheus.
type Client struct {
	base  string
	http  *http.Client
	where string
}

// New returns a client of the Prometheus at base (a path prefix is kept);
// client carries any credentials (nil: a plain client).
func New(base string, client *http.Client) *Client {
	if client == nil {
		client = httpx.NewClient(httpx.Options{})
	}
	base = strings.TrimRight(base, "/")
	return &Client{base: base, http: client, where: "prometheus " + httpx.RedactURL(base)}
}

// envelope is the envelope of Prometheus's HTTP API answers.
type envelope struct {
	Status string `json:"status"`
	Data   struct {
		ResultType model.ValueType `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
	ErrorType string   `json:"errorType"`
	Error     string   `json:"error"`
	Warnings  []string `json:"warnings"`
	Infos     []string `json:"infos"`
}

// Notes are what Prometheus said beside an answer.
type Notes struct {
	Warnings []string
	Infos    []string
}

// Answer is the result of an instant query: the samples (a scalar result
// is one sample without labels).
type Answer struct {
	Samples model.Vector
	Notes
}

// RangeAnswer is the result of a range query.
type RangeAnswer struct {
	Series model.Matrix
	Notes
}

// timestamp formats t as the API's seconds with milliseconds.
func timestamp(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', 3, 64)
}

// Instant runs GET /api/v1/query?query=...&time=... An answer that is not
// an instant vector or a scalar is an error saying so.
func (c *Client) Instant(ctx context.Context, query string, at time.Time) (Answer, error) {
	env, err := c.get(ctx, "/api/v1/query", url.Values{"query": {query}, "time": {timestamp(at)}})
	if err != nil {
		return Answer{}, err
	}
	a := Answer{Notes: Notes{env.Warnings, env.Infos}}
	switch env.Data.ResultType {
	case model.ValVector:
		if err := json.Unmarshal(env.Data.Result, &a.Samples); err != nil {
			return Answer{}, fmt.Errorf("%s: decoding the vector: %w", c.where, err)
		}
	case model.ValScalar:
		var s model.Scalar
		if err := json.Unmarshal(env.Data.Result, &s); err != nil {
			return Answer{}, fmt.Errorf("%s: decoding the scalar: %w", c.where, err)
		}
		a.Samples = model.Vector{{Metric: model.Metric{}, Value: s.Value, Timestamp: s.Timestamp}}
	case model.ValMatrix:
		return Answer{}, fmt.Errorf("the query returns a range vector (matrix): an instant query needs an instant vector, e.g. wrap the range in rate() or max_over_time()")
	default:
		return Answer{}, fmt.Errorf("the query returns a %s, want an instant vector or a scalar", env.Data.ResultType)
	}
	return a, nil
}

// Range runs GET /api/v1/query_range?query=...&start=...&end=...&step=...
func (c *Client) Range(ctx context.Context, query string, start, end time.Time, step time.Duration) (RangeAnswer, error) {
	env, err := c.get(ctx, "/api/v1/query_range", url.Values{
		"query": {query}, "start": {timestamp(start)}, "end": {timestamp(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	})
	if err != nil {
		return RangeAnswer{}, err
	}
	a := RangeAnswer{Notes: Notes{env.Warnings, env.Infos}}
	if env.Data.ResultType != model.ValMatrix {
		return RangeAnswer{}, fmt.Errorf("%s: a range query returned a %s, want a matrix", c.where, env.Data.ResultType)
	}
	// Not json.Unmarshal into model.Matrix: model.SamplePair decodes each
	// point with a json.Unmarshal of its own, which made decoding cost more
	// than Prometheus's answering (BENCHMARKS.md, the grafana check).
	var raw []struct {
		Metric model.Metric `json:"metric"`
		Values []point      `json:"values"`
	}
	if err := json.Unmarshal(env.Data.Result, &raw); err != nil {
		return RangeAnswer{}, fmt.Errorf("%s: decoding the matrix: %w", c.where, err)
	}
	a.Series = make(model.Matrix, len(raw))
	for i, r := range raw {
		ss := &model.SampleStream{Metric: r.Metric, Values: make([]model.SamplePair, len(r.Values))}
		for j, p := range r.Values {
			ss.Values[j] = model.SamplePair(p)
		}
		a.Series[i] = ss
	}
	return a, nil
}

// point is one [<seconds>, "<value>"] of a range answer, decoded without
// reflection.
type point model.SamplePair

// UnmarshalJSON implements json.Unmarshaler.
func (p *point) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	inner, ok := strings.CutPrefix(s, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	ts, val, found := strings.Cut(inner, ",")
	if !ok || !found {
		return fmt.Errorf("point %.40q: want [<time>, \"<value>\"]", s)
	}
	t, err := strconv.ParseFloat(strings.TrimSpace(ts), 64)
	if err != nil {
		return fmt.Errorf("point %.40q: time: %w", s, err)
	}
	val = strings.TrimSpace(val)
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return fmt.Errorf("point %.40q: the value is not a string", s)
	}
	v, err := strconv.ParseFloat(val[1:len(val)-1], 64)
	if err != nil {
		return fmt.Errorf("point %.40q: value: %w", s, err)
	}
	p.Timestamp = model.Time(math.Round(t * 1000))
	p.Value = model.SampleValue(v)
	return nil
}

// Series runs GET /api/v1/series?match[]=...&start=...&end=...: the label
// sets of the series the selector matches in the range.
func (c *Client) Series(ctx context.Context, match string, start, end time.Time) ([]model.LabelSet, error) {
	env, err := c.get(ctx, "/api/v1/series", url.Values{"match[]": {match}, "start": {timestamp(start)}, "end": {timestamp(end)}})
	if err != nil {
		return nil, err
	}
	var sets []model.LabelSet
	if err := json.Unmarshal(env.Data.Result, &sets); err != nil {
		// The series API's data is the array itself.
		return nil, fmt.Errorf("%s: decoding the series: %w", c.where, err)
	}
	return sets, nil
}

// LabelValues runs GET /api/v1/label/<name>/values?start=...&end=...
func (c *Client) LabelValues(ctx context.Context, label string, start, end time.Time) ([]string, error) {
	env, err := c.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", url.Values{"start": {timestamp(start)}, "end": {timestamp(end)}})
	if err != nil {
		return nil, err
	}
	var values []string
	if err := json.Unmarshal(env.Data.Result, &values); err != nil {
		return nil, fmt.Errorf("%s: decoding the label values: %w", c.where, err)
	}
	return values, nil
}

// get asks GET {base}{path}?{q}[&timeout=...] and checks the envelope. The
// series and label APIs put their array directly under "data"; get hands
// it back in Data.Result for them.
func (c *Client) get(ctx context.Context, path string, q url.Values) (envelope, error) {
	if dl, ok := ctx.Deadline(); ok && (path == "/api/v1/query" || path == "/api/v1/query_range") {
		// Let Prometheus give up when we do, rather than compute for nobody.
		if left := time.Until(dl); left > 0 {
			q.Set("timeout", strconv.FormatFloat(left.Seconds(), 'f', 3, 64))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		// Not err itself: a *url.Error quotes the URL, credentials and all.
		return envelope{}, fmt.Errorf("%s: cannot build the request", c.where)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return envelope{}, fmt.Errorf("%s: %s", c.where, msg)
	}
	defer resp.Body.Close()
	body, truncated, err := httpx.ReadBody(resp.Body, MaxBody)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return envelope{}, fmt.Errorf("%s: reading the answer: %s", c.where, msg)
	}

	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if jsonErr == nil && env.Status == "error" {
		// Prometheus answers 400 (bad_data), 422 (execution), 503
		// (timeout, canceled) ... with this envelope.
		return envelope{}, fmt.Errorf("%s returned %d: %s: %s", c.where, resp.StatusCode, env.ErrorType, env.Error)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return envelope{}, fmt.Errorf("%s returned %d: %s", c.where, resp.StatusCode, httpx.Snippet(body, 200))
	}
	if truncated {
		return envelope{}, fmt.Errorf("%s: answer larger than %d MiB", c.where, MaxBody>>20)
	}
	if jsonErr != nil {
		// The series and label APIs: "data" is an array, not an object.
		var flat struct {
			Status   string          `json:"status"`
			Data     json.RawMessage `json:"data"`
			Warnings []string        `json:"warnings"`
		}
		if err := json.Unmarshal(body, &flat); err == nil && flat.Status == "success" && strings.HasPrefix(strings.TrimSpace(string(flat.Data)), "[") {
			env = envelope{Status: flat.Status, Warnings: flat.Warnings}
			env.Data.Result = flat.Data
			return env, nil
		}
		return envelope{}, fmt.Errorf("%s: decoding the answer: %w (answer starts %q)", c.where, jsonErr, httpx.Snippet(body, 80))
	}
	if env.Status != "success" {
		return envelope{}, fmt.Errorf("%s: answer has status %q, want success", c.where, env.Status)
	}
	return env, nil
}
