package metrics

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/promapi"
)

// MaxRangePoints is the most samples per series a range query asks for
// (Prometheus refuses more than 11,000).
const MaxRangePoints = 2000

// Range is a range query's answer: one series per label set.
type Range = model.Matrix

// QueryRange runs query over [start, end] against the Prometheus at api
// (its base URL), at a step that gives at most MaxRangePoints samples per
// series (at least one second), and returns the series whose labels
// include every one of match (all of them when match is empty).
func QueryRange(ctx context.Context, client *http.Client, api, query string, start, end time.Time, match map[string]string) (Range, error) {
	if !end.After(start) {
		return nil, fmt.Errorf("range query: the window ends (%s) before it starts (%s)", end, start)
	}
	step := max(end.Sub(start)/MaxRangePoints, time.Second).Truncate(time.Second)
	a, err := promapi.New(api, client).Range(ctx, query, start, end, step)
	if err != nil {
		return nil, err
	}
	m := a.Series
	out := m[:0]
	for _, s := range m {
		if matches(s.Metric, match) {
			out = append(out, s)
		}
	}
	return out, nil
}

// matches reports whether m has every label of want with its value.
func matches(m model.Metric, want map[string]string) bool {
	for k, v := range want {
		if string(m[model.LabelName(k)]) != v {
			return false
		}
	}
	return true
}
