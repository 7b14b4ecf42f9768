package promapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// serve answers every request with status and body, and records the
// last query.
func serve(t testing.TB, status int, body string) (*Client, *string) {
	t.Helper()
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Path + "?" + r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return New(srv.URL, nil), &query
}

func TestRange(t *testing.T) {
	c, q := serve(t, 200, `{"status":"success","data":{"resultType":"matrix","result":[
	  {"metric":{"job":"a"},"values":[[1700000000,"1.5"],[1700000015.5,"NaN"],[1700000030, "+Inf"]]}]}}`)
	a, err := c.Range(t.Context(), "up", time.Unix(1700000000, 0), time.Unix(1700000030, 0), 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(*q, "/api/v1/query_range?") || !strings.Contains(*q, "step=15") || !strings.Contains(*q, "start=1700000000.000") {
		t.Errorf("request %s", *q)
	}
	if len(a.Series) != 1 || a.Series[0].Metric["job"] != "a" || len(a.Series[0].Values) != 3 {
		t.Fatalf("series %v", a.Series)
	}
	v := a.Series[0].Values
	if v[0].Timestamp != model.Time(1700000000000) || v[0].Value != 1.5 || v[1].Timestamp != model.Time(1700000015500) ||
		!math.IsNaN(float64(v[1].Value)) || !math.IsInf(float64(v[2].Value), 1) {
		t.Errorf("values %v", v)
	}
}

func TestRangeErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"a value that is not a string", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1, 2]]}]}}`,
			"the value is not a string"},
		{"a time that is not a number", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x","2"]]}]}}`,
			"time: "},
		{"not a pair", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}`,
			`want [<time>, "<value>"]`},
		{"a vector", `{"status":"success","data":{"resultType":"vector","result":[]}}`, "a range query returned a vector, want a matrix"},
		{"Prometheus's error", `{"status":"error","errorType":"bad_data","error":"parse error"}`, "returned 200: bad_data: parse error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := serve(t, 200, tc.body)
			_, err := c.Range(t.Context(), "up", time.Unix(0, 0), time.Unix(60, 0), 15*time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSeriesAndLabelValues(t *testing.T) {
	c, q := serve(t, 200, `{"status":"success","data":[{"__name__":"up","job":"a"},{"__name__":"up","job":"b"}]}`)
	sets, err := c.Series(t.Context(), `up{job=~".+"}`, time.Unix(0, 0), time.Unix(60, 0))
	if err != nil || len(sets) != 2 || sets[1]["job"] != "b" {
		t.Errorf("series %v, %v", sets, err)
	}
	if !strings.Contains(*q, "/api/v1/series?") || !strings.Contains(*q, "match%5B%5D=up") {
		t.Errorf("request %s", *q)
	}
	c, q = serve(t, 200, `{"status":"success","data":["a","b"]}`)
	vals, err := c.LabelValues(t.Context(), "job", time.Unix(0, 0), time.Unix(60, 0))
	if err != nil || strings.Join(vals, ",") != "a,b" || !strings.HasPrefix(*q, "/api/v1/label/job/values?") {
		t.Errorf("label values %v, %v (%s)", vals, err, *q)
	}
}

// BenchmarkRangeDecode decodes a day of one series at a 15 s step (5,761
// points): with model.Matrix's own decoding (each point a json.Unmarshal
// of its own), the way Range decoded before, and with Range's.
func BenchmarkRangeDecode(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[`)
	for i := range 5761 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `[%d,"%g"]`, 1700000000+15*i, 0.5+float64(i%100)/7)
	}
	sb.WriteString(`]}]}}`)
	body := sb.String()
	b.Run("model.Matrix", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var env struct {
				Data struct {
					Result model.Matrix `json:"result"`
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &env); err != nil || len(env.Data.Result[0].Values) != 5761 {
				b.Fatal(err)
			}
		}
	})
	b.Run("promapi.Range", func(b *testing.B) {
		c, _ := serve(b, 200, body)
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			a, err := c.Range(b.Context(), "up", time.Unix(0, 0), time.Unix(86400, 0), 15*time.Second)
			if err != nil || len(a.Series[0].Values) != 5761 {
				b.Fatal(err)
			}
		}
	})
}
