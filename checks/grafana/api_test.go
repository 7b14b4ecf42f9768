package grafana_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/grafana"
	"github.com/opsbot/opsbot/internal/httpx"
)

// TestAPIErrors: a dashboard Grafana refuses or lacks is an Unknown
// result naming its uid and saying what to do; the token appears in no
// result and no log line.
func TestAPIErrors(t *testing.T) {
	g := fakeGrafana(t)
	g.Forbid("secret-team")
	cases := []struct {
		name, token, uid string
		want             []string
	}{
		{"wrong token", "glsa_wrong", "opsbot-forms",
			[]string{`401 Unauthorized for dashboard "opsbot-forms"`, "the service-account token in $GRAFANA_TOKEN was not accepted"}},
		{"forbidden", token, "secret-team",
			[]string{`403 Forbidden for dashboard "secret-team"`, "may not view it"}},
		{"missing", token, "no-such-uid",
			[]string{`404 for dashboard "no-such-uid"`, "no dashboard has this uid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			c, err := grafana.New(grafana.Config{URL: g.URL(), Dashboards: []string{tc.uid}, TokenEnv: "GRAFANA_TOKEN", Window: 3600e9},
				grafana.Env{PrometheusURL: prom.URL()},
				grafana.Clients{Grafana: httpx.NewClient(httpx.Options{BearerToken: httpx.Secret(tc.token)})}, zap.New(core))
			if err != nil {
				t.Fatal(err)
			}
			res := c.Run(t.Context())
			if res.Status != checks.Unknown {
				t.Errorf("status %v, want unknown", res.Status)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Summary, w) {
					t.Errorf("summary %q lacks %q", res.Summary, w)
				}
			}
			var all bytes.Buffer
			all.WriteString(res.Summary)
			for _, e := range logs.All() {
				all.WriteString(e.Message)
				for k, v := range e.ContextMap() {
					all.WriteString(k)
					all.WriteString(fmtAny(v))
				}
			}
			if strings.Contains(all.String(), tc.token) {
				t.Errorf("the token is in the result or the logs: %s", all.String())
			}
		})
	}
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

// TestOneDashboardFails: the other dashboards are still evaluated, the
// result is at least Unknown (a dashboard could not be looked at; here Fail,
// for the file's red panel) and the failure comes first in its summary.
func TestOneDashboardFails(t *testing.T) {
	g := fakeGrafana(t)
	c := newCheck(t, grafana.Config{
		Dashboards: []string{"no-such-uid"},
		Files:      []string{filepath.Join("testdata", "ceph-cluster.json")},
	}, g)
	res := c.Run(t.Context())
	if res.Status != checks.Fail {
		t.Errorf("status %v, want fail", res.Status)
	}
	if !strings.HasPrefix(res.Summary, "grafana "+g.URL()+` returned 404 for dashboard "no-such-uid"`) {
		t.Errorf("summary %q does not start with the failure", res.Summary)
	}
	found := false
	for _, f := range res.Findings {
		found = found || f.Fingerprint == `grafana/ceph-cluster.json/panel-47/Used`
	}
	if !found {
		t.Errorf("the file's panels were not evaluated: %v", res.Findings)
	}
}

// TestFailedQueryListed: a panel whose query Prometheus rejects is listed
// with Prometheus's reason.
func TestFailedQueryListed(t *testing.T) {
	dash := `{"uid":"bad","title":"Bad","panels":[{"id":1,"type":"stat","title":"Broken",
	  "fieldConfig":{"defaults":{"thresholds":{"mode":"absolute","steps":[{"color":"green","value":null},{"color":"red","value":1}]}}},
	  "targets":[{"refId":"A","expr":"sum(rate(x[5m])"}]}]}`
	g := fakeGrafana(t)
	if err := g.Add("bad", []byte(dash)); err != nil {
		t.Fatal(err)
	}
	res := newCheck(t, grafana.Config{Dashboards: []string{"bad"}}, g).Run(t.Context())
	if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Detail, "Bad / Broken (panel 1): query A failed: prometheus ") ||
		!strings.Contains(res.Findings[0].Detail, "bad_data") {
		t.Errorf("findings %+v, want the panel listed with Prometheus's reason", res.Findings)
	}
}

// TestMaxFindings: a panel with more series past its thresholds than
// maxFindings reports the worst ones, and the summary says how many more.
func TestMaxFindings(t *testing.T) {
	g := fakeGrafana(t)
	res := newCheck(t, grafana.Config{Dashboards: []string{"opsbot-forms"}, MaxFindings: 1}, g).Run(t.Context())
	n := 0
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Fingerprint, "grafana/opsbot-forms/panel-2/") {
			n++
			if f.Severity != checks.Fail {
				t.Errorf("kept %s (%v), want a red series first", f.Title, f.Severity)
			}
		}
	}
	if n != 1 || !strings.Contains(res.Summary, `panel "Queue depth": 2 more series not shown`) {
		t.Errorf("%d findings of the queue panel, summary %q; want 1 and the rest counted", n, res.Summary)
	}
}
