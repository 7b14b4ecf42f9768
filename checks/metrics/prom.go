package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// maxBody bounds the size of one query's answer.
const maxBody = 32 << 20

// apiResponse is the envelope of Prometheus's HTTP API answers.
type apiResponse struct {
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

// answer is the result of one instant query: the samples (a scalar result
// is one sample without labels) and Prometheus's warnings.
type answer struct {
	samples  model.Vector
	warnings []string
	infos    []string
}

// instantQuery runs GET {base}/api/v1/query?query=...&time=...[&timeout=...].
// Errors say what failed (what Prometheus said, or why it could not be
// asked), with credentials redacted from the URL.
func (c *Check) instantQuery(ctx context.Context, query string, at time.Time) (answer, error) {
	where := "prometheus " + httpx.RedactURL(c.api)
	q := url.Values{
		"query": {query},
		"time":  {strconv.FormatFloat(float64(at.UnixMilli())/1e3, 'f', 3, 64)},
	}
	if dl, ok := ctx.Deadline(); ok {
		// Let Prometheus give up when we do, rather than compute for nobody.
		if left := time.Until(dl); left > 0 {
			q.Set("timeout", strconv.FormatFloat(left.Seconds(), 'f', 3, 64))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api+"/api/v1/query?"+q.Encode(), nil)
	if err != nil {
		// Not err itself: a *url.Error quotes the URL, credentials and all.
		return answer{}, fmt.Errorf("%s: cannot build the request", where)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return answer{}, fmt.Errorf("%s: %s", where, msg)
	}
	defer resp.Body.Close()
	body, truncated, err := httpx.ReadBody(resp.Body, maxBody)
	if err != nil {
		_, msg := httpx.Classify(ctx, err)
		return answer{}, fmt.Errorf("%s: reading the answer: %s", where, msg)
	}

	var r apiResponse
	jsonErr := json.Unmarshal(body, &r)
	if jsonErr == nil && r.Status == "error" {
		// Prometheus answers 400 (bad_data), 422 (execution), 503
		// (timeout, canceled) ... with this envelope.
		return answer{}, fmt.Errorf("%s returned %d: %s: %s", where, resp.StatusCode, r.ErrorType, r.Error)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answer{}, fmt.Errorf("%s returned %d: %s", where, resp.StatusCode, httpx.Snippet(body, 200))
	}
	if truncated {
		return answer{}, fmt.Errorf("%s: answer larger than %d MiB", where, maxBody>>20)
	}
	if jsonErr != nil {
		return answer{}, fmt.Errorf("%s: decoding the answer: %w (answer starts %q)", where, jsonErr, httpx.Snippet(body, 80))
	}
	if r.Status != "success" {
		return answer{}, fmt.Errorf("%s: answer has status %q, want success", where, r.Status)
	}

	a := answer{warnings: r.Warnings, infos: r.Infos}
	switch r.Data.ResultType {
	case model.ValVector:
		if err := json.Unmarshal(r.Data.Result, &a.samples); err != nil {
			return answer{}, fmt.Errorf("%s: decoding the vector: %w", where, err)
		}
	case model.ValScalar:
		var s model.Scalar
		if err := json.Unmarshal(r.Data.Result, &s); err != nil {
			return answer{}, fmt.Errorf("%s: decoding the scalar: %w", where, err)
		}
		a.samples = model.Vector{{Metric: model.Metric{}, Value: s.Value, Timestamp: s.Timestamp}}
	case model.ValMatrix:
		return answer{}, fmt.Errorf("the query returns a range vector (matrix): an instant query needs an instant vector, e.g. wrap the range in rate() or max_over_time()")
	default:
		return answer{}, fmt.Errorf("the query returns a %s, want an instant vector or a scalar", r.Data.ResultType)
	}
	return a, nil
}
