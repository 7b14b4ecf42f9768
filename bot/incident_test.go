package bot

import (
	"testing"
	"time"

	"github.com/opsbot/opsbot/incident"
)

func TestIncidentFormMetadata(t *testing.T) {
	f := incidentForm{Env: "prod", AnomalyID: 12, Channel: "C0123"}
	got, err := parseIncidentForm(f.metadata())
	if err != nil || got != f {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "prod", "prod|x|C1", "|1|C1", "prod|-1|C1"} {
		if _, err := parseIncidentForm(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The words of `/ops resolve` that cannot be read are told with the input
// escaped and cut (the incident package keeps it raw).
func TestInputProblem(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"3", "14:05"}, ""},
		{[]string{"<!here>"}, "`&lt;!here&gt;` is neither an incident id nor a time (14:05, or 2026-11-24 14:05)."},
		{[]string{"3", "at", "<b>"}, "`at &lt;b&gt;` is not a time: say 14:05, or 2026-11-24 14:05 (UTC)."},
		{[]string{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}, "`xxxxxxxxxxxxxxxxxxxxxxxxxxxxx…` is neither an incident id nor a time (14:05, or 2026-11-24 14:05)."},
	} {
		_, err := incident.ParseResolveArgs(tt.args, now, time.UTC)
		if got := inputProblem(testTexts(t), err); got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}
}
