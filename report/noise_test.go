package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/opsbot/opsbot/noise"
)

// sampleNoise is a noise report with untrusted text carrying a terminal
// escape.
func sampleNoise() noise.Report {
	day := func(d, n int) noise.DayCount {
		return noise.DayCount{Day: time.Date(2026, 11, 22+d, 0, 0, 0, 0, time.UTC), Sightings: n}
	}
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	return noise.Report{
		Since: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC),
		Days: 3, Sightings: 9, PerDay: []noise.DayCount{day(1, 4), day(2, 0), day(3, 5)},
		Top: []noise.Fingerprint{
			{Environment: "prod", Fingerprint: "pods/api/crashloop", Sightings: 4, AnomalyID: 1, Title: "api \x1b[2J crash-looping",
				Decision: "noise", DecidedBy: "U0BOB", Ticket: "https://jira.example.com/browse/OPS-2"},
			{Environment: "dev", Fingerprint: "pods/worker/oom", Sightings: 2, AnomalyID: 3, Title: "worker OOM-killed"},
		},
		Undecided: []noise.Undecided{{AnomalyID: 3, Environment: "dev", Title: "worker OOM-killed", OpenedAt: at, SeenCount: 2}},
		Mistriage: noise.Mistriage{Decided: 3, Rate: 2.0 / 3, Anomalies: []noise.Mistriaged{
			{AnomalyID: 1, From: "noise", Became: noise.BecameSerious, At: at},
			{AnomalyID: 2, From: "intermittent", Became: noise.BecameIncident, IncidentID: 1, At: at},
		}},
		Alerts: []noise.FiredAlert{
			{Environment: "prod", Source: noise.SourceAlertmanager, Fingerprint: "alerts/prod/DiskFilling/shop",
				Title: "DiskFilling \x1b[2J is firing", Runs: 2, Count: 5},
			{Environment: "dev", Source: noise.SourceAlertsChannel, Fingerprint: "alertschannel/alert/KubeJobFailed",
				Title: "KubeJobFailed posted", Runs: 1},
		},
		StaleSilences: []noise.SilenceLine{{AnomalyID: 7, Environment: "prod", Title: "canary flaps", SilenceID: "5d3c7c6e",
			EndsAt: at.Add(48 * time.Hour), Matchers: `alertname="CanaryFlaps", namespace="shop"`}},
		ExtendedSilences: []noise.SilenceLine{{AnomalyID: 5, Environment: "prod", Title: "disk filling up", SilenceID: "s-disk",
			EndsAt: at.Add(21 * 24 * time.Hour), Extensions: 2}},
		SilencesUnchecked: []string{"dev: no Alertmanager configured"},
	}
}

func TestWriteNoiseGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNoiseText(&buf, sampleNoise()); err != nil {
		t.Fatal(err)
	}
	golden(t, "noise.golden", buf.Bytes())
	buf.Reset()
	if err := WriteNoiseJSON(&buf, sampleNoise()); err != nil {
		t.Fatal(err)
	}
	golden(t, "noise.json.golden", buf.Bytes())

	buf.Reset()
	empty := noise.Report{Since: sampleNoise().Since, Until: sampleNoise().Until, Days: 1,
		PerDay: []noise.DayCount{{Day: sampleNoise().Since}}, Top: []noise.Fingerprint{},
		Undecided: []noise.Undecided{}, Mistriage: noise.Mistriage{Anomalies: []noise.Mistriaged{}},
		Alerts: []noise.FiredAlert{}, StaleSilences: []noise.SilenceLine{}, ExtendedSilences: []noise.SilenceLine{}}
	if err := WriteNoiseText(&buf, empty); err != nil {
		t.Fatal(err)
	}
	golden(t, "noise-empty.golden", buf.Bytes())
}
