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
		Undecided: []noise.Undecided{}, Mistriage: noise.Mistriage{Anomalies: []noise.Mistriaged{}}}
	if err := WriteNoiseText(&buf, empty); err != nil {
		t.Fatal(err)
	}
	golden(t, "noise-empty.golden", buf.Bytes())
}
