package schedule

import (
	"fmt"
	"regexp"
	"time"

	"github.com/prometheus/common/model"
)

// Defaults of the configuration.
const (
	// DefaultSchedule is 09:30 on weekdays.
	DefaultSchedule = "30 9 * * 1-5"
	// DefaultTimezone is the ops rotation's time zone.
	DefaultTimezone = "Europe/London"
	// DefaultCatchUp is how late an occurrence may still run (see
	// Config.CatchUp).
	DefaultCatchUp = 5 * time.Minute
	// DefaultLeaseName is the name of the Lease the replicas elect a
	// leader with.
	DefaultLeaseName = "opsbot-scheduler"
	// The client-go leader election timings controller-runtime uses.
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Config is the scheduled checklist's block of the configuration.
type Config struct {
	// Schedule is when the checklist runs: a five-field cron expression
	// (minute hour day-of-month month day-of-week) or a macro such as
	// @daily; see Parse. Default "30 9 * * 1-5" (09:30 on weekdays).
	Schedule string `yaml:"schedule"`
	// Timezone is the IANA time zone the schedule is read in. Default
	// Europe/London (the binary embeds the zone database).
	Timezone string `yaml:"timezone"`
	// CatchUp is how late an occurrence may still run: when no replica
	// was the leader at the scheduled time (a failover, a rollout) the new
	// leader runs it if it arrives within CatchUp, and a replica that
	// starts within CatchUp after an occurrence runs it. Exactly once
	// relies on the shared Claimer (the store): without one, catch-up is
	// off. It never extends past the next occurrence. Default 5m; 0 turns
	// catch-up off.
	CatchUp *model.Duration `yaml:"catchUp"`
	// LeaderElection configures the Lease the replicas elect the one that
	// runs the schedule with.
	LeaderElection LeaderElectionConfig `yaml:"leaderElection"`
}

// LeaderElectionConfig configures leader election with a
// coordination.k8s.io Lease (client-go's leaderelection).
type LeaderElectionConfig struct {
	// Namespace is where the Lease lives: the namespace opsbot runs in.
	// Default: $POD_NAMESPACE, else the service account's namespace.
	Namespace string `yaml:"namespace"`
	// LeaseName is the Lease's name. Default opsbot-scheduler.
	LeaseName string `yaml:"leaseName"`
	// LeaseDuration is how long a leader's lease lasts without renewal: a
	// crashed leader is replaced after at most this. Default 15s.
	LeaseDuration model.Duration `yaml:"leaseDuration"`
	// RenewDeadline is how long the leader keeps trying to renew before it
	// steps down. Default 10s.
	RenewDeadline model.Duration `yaml:"renewDeadline"`
	// RetryPeriod is how often candidates try to acquire (and the leader
	// to renew). Default 2s.
	RetryPeriod model.Duration `yaml:"retryPeriod"`
	// Identity names this replica in the Lease; not configurable from
	// YAML (every replica would get the same). Default: the host name and
	// a random suffix.
	Identity string `yaml:"-"`
}

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.Schedule == "" {
		c.Schedule = DefaultSchedule
	}
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if c.CatchUp == nil {
		d := model.Duration(DefaultCatchUp)
		c.CatchUp = &d
	}
	c.LeaderElection.SetDefaults()
}

// SetDefaults fills unset fields with their defaults. The namespace is
// left alone: NewLeaseElector finds it at run time.
func (c *LeaderElectionConfig) SetDefaults() {
	if c.LeaseName == "" {
		c.LeaseName = DefaultLeaseName
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = model.Duration(DefaultLeaseDuration)
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = model.Duration(DefaultRenewDeadline)
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = model.Duration(DefaultRetryPeriod)
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the block, e.g. `schedule: hour: 25 is out of range 0-23`.
func (c Config) Validate() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		return fmt.Errorf("timezone: unknown time zone %q (want an IANA name like Europe/London)", c.Timezone)
	}
	if _, err := Parse(c.Schedule, loc); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	if c.CatchUp != nil && *c.CatchUp < 0 {
		return fmt.Errorf("catchUp: must not be negative, got %s", *c.CatchUp)
	}
	if err := c.LeaderElection.Validate(); err != nil {
		return fmt.Errorf("leaderElection.%w", err)
	}
	return nil
}

// dnsSubdomainRE is a Kubernetes object name (RFC 1123 subdomain).
var dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// dnsLabelRE is a Kubernetes namespace name (RFC 1123 label).
var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the leader election settings, including client-go's
// constraints: leaseDuration > renewDeadline > 1.2 × retryPeriod > 0.
// Errors start with the key, e.g. `renewDeadline: ...`.
func (c LeaderElectionConfig) Validate() error {
	if c.Namespace != "" && (len(c.Namespace) > 63 || !dnsLabelRE.MatchString(c.Namespace)) {
		return fmt.Errorf("namespace: %q is not a valid namespace name", c.Namespace)
	}
	if len(c.LeaseName) > 253 || !dnsSubdomainRE.MatchString(c.LeaseName) {
		return fmt.Errorf("leaseName: %q is not a valid object name (lower-case letters, digits, '-' and '.')", c.LeaseName)
	}
	switch {
	case c.RetryPeriod <= 0:
		return fmt.Errorf("retryPeriod: must be positive, got %s", c.RetryPeriod)
	case c.RenewDeadline <= 0:
		return fmt.Errorf("renewDeadline: must be positive, got %s", c.RenewDeadline)
	case c.LeaseDuration <= 0:
		return fmt.Errorf("leaseDuration: must be positive, got %s", c.LeaseDuration)
	case time.Duration(c.RenewDeadline) <= time.Duration(1.2*float64(c.RetryPeriod)):
		return fmt.Errorf("renewDeadline: must be more than 1.2 × retryPeriod (%s), got %s", c.RetryPeriod, c.RenewDeadline)
	case c.LeaseDuration <= c.RenewDeadline:
		return fmt.Errorf("leaseDuration: must be more than renewDeadline (%s), got %s", c.RenewDeadline, c.LeaseDuration)
	}
	return nil
}

// Location loads the configured time zone.
func (c Config) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	return loc, nil
}

// Parsed returns the configured schedule in the configured time zone.
func (c Config) Parsed() (*Schedule, error) {
	loc, err := c.Location()
	if err != nil {
		return nil, err
	}
	s, err := Parse(c.Schedule, loc)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	return s, nil
}
