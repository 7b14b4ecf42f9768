package database

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/testenv"
)

// TestPressureFromPostgresExporter reads the same figures from
// postgres_exporter's metrics in a real Prometheus (source prometheus).
func TestPressureFromPostgresExporter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Prometheus; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Prometheus: &testenv.PrometheusOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })

	for _, m := range []struct {
		name   string
		labels testenv.Labels
		value  float64
	}{
		// shop: 45 GB of a 50 GiB volume (84%: warn); other is not looked at.
		{"pg_database_size_bytes", testenv.Labels{"datname": "shop"}, 45e9},
		{"pg_database_size_bytes", testenv.Labels{"datname": "other"}, 52e9},
		// 180 of 197 connections (91%: warn).
		{"pg_stat_activity_count", testenv.Labels{"datname": "shop", "state": "active"}, 80},
		{"pg_stat_activity_count", testenv.Labels{"datname": "shop", "state": "idle"}, 100},
		{"pg_settings_max_connections", nil, 200},
		{"pg_settings_superuser_reserved_connections", nil, 3},
		// A transaction open for 66 minutes (fail: 1h).
		{"pg_stat_activity_max_tx_duration", testenv.Labels{"datname": "shop", "state": "idle in transaction"}, 3960},
		{"pg_stat_activity_max_tx_duration", testenv.Labels{"datname": "shop", "state": "active"}, 2},
		// A primary: its lag is 0 and its replicas are not known.
		{"pg_replication_is_replica", nil, 0},
		{"pg_replication_lag_seconds", nil, 0},
	} {
		if err := env.Exporter.Set(m.name, m.labels, m.value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Prometheus.WaitForQuery(ctx, `count({__name__=~"pg_.+"}) == 10`); err != nil {
		t.Fatal(err)
	}

	var limit logs.ByteSize
	if err := limit.UnmarshalText([]byte("50GiB")); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Source: SourcePrometheus, Database: "shop", SizeLimit: limit},
		Env{PrometheusURL: env.Prometheus.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(ctx)
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Severity.String()+" "+f.Fingerprint+" "+f.Title)
		if f.Detail != "" {
			t.Errorf("%s: detail %q, but the exporter knows no sessions", f.Fingerprint, f.Detail)
		}
	}
	slices.Sort(got)
	want := []string{
		"fail database/long-transaction/- a transaction has been open for 1h6m (warn 15m, fail 1h)",
		"warn database/connections/- 180 of 197 connections in use (91%; warn 80%, fail 95%)",
		"warn database/size/database shop database shop at 45.0 GB of 53.7 GB (84%; warn 80%, fail 90%)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	const summary = "size 45.0 GB of 53.7 GB; 180 of 197 connections; oldest transaction 1h6m; no statement times (source prometheus)"
	if res.Status != checks.Fail || res.Summary != summary {
		t.Errorf("status %s, summary %q, want fail, %q", res.Status, res.Summary, summary)
	}

	// The limit from the PVC's capacity: 45 of 50 GB is 90% (fail).
	if err := env.Exporter.Set("kubelet_volume_stats_capacity_bytes",
		testenv.Labels{"namespace": "db", "persistentvolumeclaim": "data-postgres-0"}, 50e9); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Prometheus.WaitForQuery(ctx, `kubelet_volume_stats_capacity_bytes`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ pvc, finding, summary string }{
		{"db/data-postgres-0", "fail database shop at 45.0 GB of 50.0 GB on PVC db/data-postgres-0 (90%; warn 80%, fail 90%)", ""},
		{"db/data-postgres-1", "", "capacity of PVC db/data-postgres-1 unknown: no kubelet_volume_stats_capacity_bytes for it"},
	} {
		c, err := New(Config{Source: SourcePrometheus, Database: "shop", PVC: tt.pvc}, Env{PrometheusURL: env.Prometheus.URL()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res := c.Run(ctx)
		var size string
		for _, f := range res.Findings {
			if strings.HasPrefix(f.Fingerprint, "database/size/") {
				size = f.Severity.String() + " " + f.Title
			}
		}
		if size != tt.finding || !strings.Contains(res.Summary, tt.summary) {
			t.Errorf("pvc %s: size finding %q, summary %q; want %q, %q", tt.pvc, size, res.Summary, tt.finding, tt.summary)
		}
	}

	// Without postgres_exporter the check cannot look: unknown, saying why.
	env.Exporter.Reset()
	if _, err := env.Prometheus.WaitForQuery(ctx, `absent(pg_database_size_bytes)`); err != nil {
		t.Fatal(err)
	}
	res = c.Run(ctx)
	if res.Status != checks.Unknown || !strings.Contains(res.Summary, "is postgres_exporter scraped?") {
		t.Errorf("without the exporter: status %s, summary %q", res.Status, res.Summary)
	}
}
