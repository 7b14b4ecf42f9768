package schedule

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	if c.Schedule != "30 9 * * 1-5" || c.Timezone != "Europe/London" || c.CatchUp == nil || time.Duration(*c.CatchUp) != 5*time.Minute {
		t.Errorf("defaults = %+v", c)
	}
	le := c.LeaderElection
	if le.LeaseName != "opsbot-scheduler" || time.Duration(le.LeaseDuration) != 15*time.Second ||
		time.Duration(le.RenewDeadline) != 10*time.Second || time.Duration(le.RetryPeriod) != 2*time.Second || le.Namespace != "" {
		t.Errorf("leader election defaults = %+v", le)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestConfigFromYAML(t *testing.T) {
	const doc = `
schedule: "0 8 * * MON-FRI"
timezone: Europe/Dublin
catchUp: 0s
leaderElection:
  namespace: opsbot
  leaseDuration: 30s
  renewDeadline: 20s
`
	var c Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if *c.CatchUp != 0 {
		t.Errorf("catchUp: 0s became %s: an explicit zero must stay off", *c.CatchUp)
	}
	s, err := c.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	if s.Location().String() != "Europe/Dublin" || s.String() != "0 8 * * MON-FRI" {
		t.Errorf("parsed %s in %s", s, s.Location())
	}
	if time.Duration(c.LeaderElection.LeaseDuration) != 30*time.Second || c.LeaderElection.LeaseName != DefaultLeaseName {
		t.Errorf("leader election = %+v", c.LeaderElection)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"macro", func(c *Config) { c.Schedule = "@daily" }, ""},
		{"bad schedule", func(c *Config) { c.Schedule = "30 9 * * FRY" }, `schedule: day-of-week: "FRY" is neither a number nor a name like MON-FRI`},
		{"seconds field", func(c *Config) { c.Schedule = "0 30 9 * * *" }, `schedule: want 5 fields (minute hour day-of-month month day-of-week), got 6 in "0 30 9 * * *" (there is no seconds field)`},
		{"bad timezone", func(c *Config) { c.Timezone = "Europe/Lodnon" }, `timezone: unknown time zone "Europe/Lodnon" (want an IANA name like Europe/London)`},
		{"negative catchUp", func(c *Config) { c.CatchUp = catchUp(-time.Minute) }, "catchUp: must not be negative, got -1m"},
		{"bad namespace", func(c *Config) { c.LeaderElection.Namespace = "Ops_Bot" }, `leaderElection.namespace: "Ops_Bot" is not a valid namespace name`},
		{"bad lease name", func(c *Config) { c.LeaderElection.LeaseName = "Opsbot Scheduler" }, `leaderElection.leaseName: "Opsbot Scheduler" is not a valid object name (lower-case letters, digits, '-' and '.')`},
		{"renew not below lease", func(c *Config) { c.LeaderElection.RenewDeadline = model.Duration(15 * time.Second) },
			"leaderElection.leaseDuration: must be more than renewDeadline (15s), got 15s"},
		{"retry too long", func(c *Config) { c.LeaderElection.RetryPeriod = model.Duration(9 * time.Second) },
			"leaderElection.renewDeadline: must be more than 1.2 × retryPeriod (9s), got 10s"},
		{"negative retry", func(c *Config) { c.LeaderElection.RetryPeriod = model.Duration(-time.Second) },
			"leaderElection.retryPeriod: must be positive, got -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.SetDefaults()
			tt.modify(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q\nwant         %q", got, tt.want)
			}
		})
	}
}
