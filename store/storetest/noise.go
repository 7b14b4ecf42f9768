package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/triage"
)

// noiseTests are the cases of the noise report's reads (noise.Store).
var noiseTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"NoiseReport", testNoiseReport},
	{"NoiseReportEmpty", testNoiseReportEmpty},
}

// SeedNoise writes the noise report's scenario into s and returns the
// time to report at (3 days after t0's midnight, 11:00 UTC); NoiseWant is
// its report over 3 days. Tests that show the report (the bot, the
// command) use it to check that they show the store's figures.
//
//   - #1 prod pods/api: opened on day 1, seen again twice on day 2 and once
//     on day 3; decided Noise on day 1, then Serious on day 2 (mis-triaged);
//   - #2 prod logs/payments: opened on day 1, decided Intermittent, an
//     incident announced from it on day 2 (mis-triaged), seen on day 3;
//   - #3 dev pods/worker: opened on day 1, seen on day 2, undecided;
//   - #4 prod http/checkout: opened 10 days before, undecided: listed as
//     undecided, but not seen in the period;
//   - #5 prod alerts/disk: opened and decided Noise on day 1, silenced for
//     7 days (silence diskSilence), the silence extended twice on day 2;
//   - checklist runs: prod on day 1 finds the DiskFilling alert (3 alerts),
//     KubeJobFailed in the alerts channel (2 posts) and a crash-looping
//     pod; prod on day 2 finds DiskFilling again (5 alerts); dev on day 3
//     finds KubeJobFailed in the alerts channel (1 post); prod the day
//     before the period finds an OldAlert.
func SeedNoise(t testing.TB, s Store) time.Time {
	t.Helper()
	ctx := context.Background()
	open := func(env, fp, title string, minutes int) triage.Anomaly {
		a := newAnomaly(env, fp)
		a.Title, a.OpenedAt = title, at(minutes)
		got, created, err := s.OpenAnomaly(ctx, a, "open:"+fp)
		if err != nil || !created {
			t.Fatalf("OpenAnomaly(%s) = created %v, %v", fp, created, err)
		}
		return got
	}
	seen := func(env, fp string, minutes int) {
		if _, found, err := s.RecordSighting(ctx, env, fp, 0, at(minutes), fmt.Sprintf("seen:%s:%d", fp, minutes)); err != nil || !found {
			t.Fatalf("RecordSighting(%s) = found %v, %v", fp, found, err)
		}
	}
	decide := func(id int64, d triage.Decision, by string, minutes int) {
		if _, err := s.Decide(ctx, id, record(d, by, at(minutes)), fmt.Sprintf("decide:%d:%d", id, minutes)); err != nil {
			t.Fatalf("Decide(#%d, %s): %v", id, d, err)
		}
	}
	const day = 24 * 60
	a1 := open("prod", "pods/api/crashloop", "api is crash-looping", 0)
	a2 := open("prod", "logs/payments/timeout", "payments time out", 60)
	open("dev", "pods/worker/oom", "worker OOM-killed", 120)
	open("prod", "http/checkout/5xx", "checkout answers 5xx", -10*day)
	a5 := open("prod", "alerts/disk", "disk filling up", 180)
	decide(a1.ID, triage.Noise, "U0ALICE", 5)
	decide(a2.ID, triage.Intermittent, "U0CAROL", 70)
	decide(a5.ID, triage.Noise, "U0ALICE", 200)
	seen("prod", "pods/api/crashloop", day)
	seen("prod", "pods/api/crashloop", day+10)
	seen("dev", "pods/worker/oom", day+5)
	decide(a1.ID, triage.Serious, "U0BOB", day+30)
	in := newIncident("prod")
	in.AnomalyID, in.AnnouncedAt = a2.ID, at(day+30)
	if _, created, err := s.Incidents().Announce(ctx, in, "announce:noise"); err != nil || !created {
		t.Fatalf("Announce = created %v, %v", created, err)
	}
	seen("prod", "pods/api/crashloop", 2*day)
	seen("prod", "logs/payments/timeout", 2*day+60)

	if _, err := s.RecordSilence(ctx, a5.ID, triage.SilenceMark{ID: diskSilence, EndsAt: at(200 + 7*day), Length: 7 * 24 * time.Hour},
		"U0ALICE", at(201), "silence:disk"); err != nil {
		t.Fatalf("RecordSilence: %v", err)
	}
	for i, end := range []int{200 + 14*day, 200 + 21*day} {
		if _, err := s.ChangeSilence(ctx, a5.ID, triage.SilenceChange{Kind: triage.KindSilenceExtended, From: diskSilence, ID: diskSilence, EndsAt: at(end)},
			"U0BOB", at(day+60+i), fmt.Sprintf("extend:disk:%d", i)); err != nil {
			t.Fatalf("ChangeSilence: %v", err)
		}
	}

	run := func(env string, minutes int, findings ...checks.Finding) {
		rep := checks.Report{Environment: env, StartedAt: at(minutes), FinishedAt: at(minutes + 1),
			Results: []checks.Result{{Check: "mixed", Status: checks.Fail, Findings: findings}}}
		if _, err := s.SaveRun(ctx, rep, "", ""); err != nil {
			t.Fatalf("SaveRun: %v", err)
		}
	}
	alert := func(fp, title string, count int) checks.Finding {
		return checks.Finding{Fingerprint: fp, Severity: checks.Warn, Title: title, Count: count}
	}
	const disk, job = "alerts/prod/DiskFilling/shop", "alertschannel/alert/KubeJobFailed"
	run("prod", 30, alert(disk, "DiskFilling on shop-db-0", 3), alert(job, "KubeJobFailed posted", 2),
		alert("pods/api/crashloop", "api is crash-looping", 1))
	run("prod", day+30, alert(disk, "DiskFilling on shop-db-0, shop-db-1", 5))
	run("dev", 2*day+30, alert(job, "KubeJobFailed posted", 1))
	run("prod", -day, alert("alerts/prod/OldAlert/shop", "OldAlert is firing", 1))
	return time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
}

// diskSilence is the id of SeedNoise's silence: a UUID, as Alertmanager's
// are, and in no Alertmanager.
const diskSilence = "0f5e3a52-8c1d-4b7e-9a3f-2d6c1b0e7a41"

// NoiseWant is the noise report of SeedNoise's store over 3 days.
func NoiseWant() noise.Report {
	d := func(day, n int) noise.DayCount {
		return noise.DayCount{Day: time.Date(2026, 11, 22+day, 0, 0, 0, 0, time.UTC), Sightings: n}
	}
	const ticketNoise = "https://jira.example.com/browse/OPS-3"
	return noise.Report{
		Since: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC),
		Days: 3, Sightings: 9, PerDay: []noise.DayCount{d(1, 4), d(2, 3), d(3, 2)},
		Top: []noise.Fingerprint{
			{Environment: "prod", Fingerprint: "pods/api/crashloop", Sightings: 4, AnomalyID: 1, Title: "api is crash-looping",
				Decision: "serious", DecidedBy: "U0BOB", Ticket: "https://jira.example.com/browse/OPS-2"},
			{Environment: "dev", Fingerprint: "pods/worker/oom", Sightings: 2, AnomalyID: 3, Title: "worker OOM-killed"},
			{Environment: "prod", Fingerprint: "logs/payments/timeout", Sightings: 2, AnomalyID: 2, Title: "payments time out",
				Decision: "intermittent", DecidedBy: "U0CAROL"},
			{Environment: "prod", Fingerprint: "alerts/disk", Sightings: 1, AnomalyID: 5, Title: "disk filling up",
				Decision: "noise", DecidedBy: "U0ALICE", Ticket: ticketNoise},
		},
		Undecided: []noise.Undecided{
			{AnomalyID: 4, Environment: "prod", Title: "checkout answers 5xx", OpenedAt: at(-10 * 24 * 60), SeenCount: 1},
			{AnomalyID: 3, Environment: "dev", Title: "worker OOM-killed", OpenedAt: at(120), SeenCount: 2},
		},
		Mistriage: noise.Mistriage{Decided: 3, Rate: 2.0 / 3, Anomalies: []noise.Mistriaged{
			{AnomalyID: 1, From: "noise", Became: noise.BecameSerious, At: at(24*60 + 30)},
			{AnomalyID: 2, From: "intermittent", Became: noise.BecameIncident, IncidentID: 1, At: at(24*60 + 30)},
		}},
		Alerts: []noise.FiredAlert{
			{Environment: "prod", Source: noise.SourceAlertmanager, Fingerprint: "alerts/prod/DiskFilling/shop",
				Title: "DiskFilling on shop-db-0, shop-db-1", Runs: 2, Count: 5},
			{Environment: "dev", Source: noise.SourceAlertsChannel, Fingerprint: "alertschannel/alert/KubeJobFailed",
				Title: "KubeJobFailed posted", Runs: 1, Count: 1},
			{Environment: "prod", Source: noise.SourceAlertsChannel, Fingerprint: "alertschannel/alert/KubeJobFailed",
				Title: "KubeJobFailed posted", Runs: 1, Count: 2},
		},
		StaleSilences: []noise.SilenceLine{},
		ExtendedSilences: []noise.SilenceLine{
			{AnomalyID: 5, Environment: "prod", Title: "disk filling up", SilenceID: diskSilence, EndsAt: at(200 + 21*24*60), Extensions: 2},
		},
		SilencesUnchecked: []string{"prod: no Alertmanager configured"},
	}
}

// testNoiseReport: the report counts the sightings of the period only
// (per fingerprint and per UTC day), shows each fingerprint's latest
// decision, lists the undecided open anomalies, and finds the Noise and
// Intermittent decisions that later became Serious or an incident.
func testNoiseReport(t *testing.T, o Opener) {
	s := open(t, o)
	now := SeedNoise(t, s)
	got, err := noise.Build(context.Background(), s, nil, 3, now)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "report", got, NoiseWant())

	// A shorter period leaves the first days out; a reopened store reads
	// the same.
	s.Close()
	s = open(t, o)
	got, err = noise.Build(context.Background(), s, nil, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sightings != 2 || len(got.PerDay) != 1 || len(got.Top) != 2 || got.Mistriage.Decided != 0 {
		t.Errorf("report of the last day = %+v; want 2 sightings of 2 fingerprints, no decision", got)
	}
}

// testNoiseReportEmpty: an empty store gives a report of zeros, every day
// listed.
func testNoiseReportEmpty(t *testing.T, o Opener) {
	s := open(t, o)
	now := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	got, err := noise.Build(context.Background(), s, nil, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	want := noise.Report{Since: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), Until: now, Days: 2,
		PerDay: []noise.DayCount{{Day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}, {Day: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}},
		Top:    []noise.Fingerprint{}, Undecided: []noise.Undecided{}, Mistriage: noise.Mistriage{Anomalies: []noise.Mistriaged{}},
		Alerts: []noise.FiredAlert{}, StaleSilences: []noise.SilenceLine{}, ExtendedSilences: []noise.SilenceLine{}}
	equal(t, "report", got, want)
}
