package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/opsbot/opsbot/triage"
)

// Defaults of the bot block.
const (
	DefaultSlackAPIURL  = "https://slack.com/api/"
	DefaultSQLitePath   = "opsbot.db"
	DefaultPostgresEnv  = "OPSBOT_POSTGRES_DSN"
	DefaultHealthListen = ":8080"
)

// Bot configures `opsbot serve`: the Slack app, the store, the recurrence
// rule and the health server. The Slack tokens are not here: they come from
// SLACK_APP_TOKEN and SLACK_BOT_TOKEN.
type Bot struct {
	Slack      Slack                   `yaml:"slack"`
	Store      Store                   `yaml:"store"`
	Recurrence triage.RecurrencePolicy `yaml:"recurrence"`
	Health     Health                  `yaml:"health"`
	// Silences bounds the silences made from Noise decisions (silences.go).
	Silences Silences `yaml:"silences"`
	// Noise posts the noise report on a schedule (noise.go).
	Noise Noise `yaml:"noise"`
	// Schedule runs the checklist on a schedule (schedule.go); nil when
	// the block is absent.
	Schedule *Schedule `yaml:"schedule"`
	// Handover is the rotation's handover (handover.go); nil when the
	// block is absent.
	Handover *Handover `yaml:"handover"`
	// Timezone is the IANA zone incident times are shown and entered in
	// (incident.go). Default Europe/London.
	Timezone string `yaml:"timezone"`
	// TemplatesDir, optional, is a directory of <name>.tmpl files that
	// replace the default message texts of the same name (any of
	// templates/defaults/).
	TemplatesDir string `yaml:"templatesDir"`
}

// Slack is the Slack workspace side of the bot.
type Slack struct {
	// APIURL is the Web API base URL (GovSlack has its own; tests point it
	// at a fake). Default https://slack.com/api/.
	APIURL string `yaml:"apiURL"`
	// DevChannel is the channel id (C...) where anomaly threads are opened.
	DevChannel string `yaml:"devChannel"`
	// OpsChannel is the ops rotation's channel id (scheduled checklists and
	// announcements).
	OpsChannel string `yaml:"opsChannel"`
	// OpsGroup is the user group id (S...) mentioned on escalations;
	// optional.
	OpsGroup string `yaml:"opsGroup"`
	// TeamID and AppID, optional, pin the workspace and app whose payloads
	// are accepted (default: the bot token's workspace, the app named by
	// Socket Mode).
	TeamID string `yaml:"teamID"`
	AppID  string `yaml:"appID"`
	// EnterpriseID, optional, is the Enterprise Grid organization (E...)
	// the workspace belongs to: auth.test must say so, and every payload
	// must carry it. Default: the one auth.test names, if any, which
	// payloads must then carry.
	EnterpriseID string `yaml:"enterpriseID"`
	// AllowedChannels, optional, are the channel ids where /ops may be
	// used and the bot's buttons and modals answered, beside the bot's own
	// channels (devChannel, opsChannel, incidentChannel, the schedule's
	// channel). Empty: any channel the bot is in.
	AllowedChannels []string `yaml:"allowedChannels"`
	// AllowDirectMessages lets /ops be used in direct messages (channel
	// ids D...). Default false: what is run and decided in a DM is seen by
	// nobody else on the rotation.
	AllowDirectMessages bool `yaml:"allowDirectMessages"`
	// Deciders may record decisions, run the checklist from Slack and open
	// anomalies.
	Deciders Deciders `yaml:"deciders"`
	// IncidentChannel is the channel id incidents are announced in.
	// Default: opsChannel (devChannel when there is none).
	IncidentChannel string `yaml:"incidentChannel"`
}

// Deciders are Slack user ids and user group ids.
type Deciders struct {
	Users  []string `yaml:"users"`
	Groups []string `yaml:"groups"`
}

// Store chooses the database: SQLite (the default, one replica) or
// PostgreSQL (several replicas).
type Store struct {
	SQLite   *SQLiteStore   `yaml:"sqlite"`
	Postgres *PostgresStore `yaml:"postgres"`
}

// SQLiteStore is a database file.
type SQLiteStore struct {
	// Path of the database file; its directory must exist. Default opsbot.db.
	Path string `yaml:"path"`
}

// PostgresStore names the environment variable holding the DSN (a
// postgres:// URL or key=value string; it may contain a password).
type PostgresStore struct {
	DSNEnv string `yaml:"dsnEnv"`
}

// Health is the health server (/healthz, /readyz).
type Health struct {
	// Listen is host:port. Default :8080: every interface, since the
	// kubelet probes (and Prometheus scrapes) the pod's IP, not its
	// loopback.
	Listen string `yaml:"listen"`
}

var (
	channelID   = regexp.MustCompile(`^[CG][A-Z0-9]{2,30}$`)
	userID      = regexp.MustCompile(`^[UW][A-Z0-9]{2,30}$`)
	usergroupID = regexp.MustCompile(`^S[A-Z0-9]{2,30}$`)
	teamID      = regexp.MustCompile(`^[TE][A-Z0-9]{2,30}$`)
	enterprise  = regexp.MustCompile(`^E[A-Z0-9]{2,30}$`)
	appID       = regexp.MustCompile(`^A[A-Z0-9]{2,30}$`)
	envVarName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (b *Bot) setDefaults() {
	if b.Slack.APIURL == "" {
		b.Slack.APIURL = DefaultSlackAPIURL
	}
	if b.Store.SQLite == nil && b.Store.Postgres == nil {
		b.Store.SQLite = &SQLiteStore{}
	}
	if b.Store.SQLite != nil && b.Store.SQLite.Path == "" {
		b.Store.SQLite.Path = DefaultSQLitePath
	}
	if b.Store.Postgres != nil && b.Store.Postgres.DSNEnv == "" {
		b.Store.Postgres.DSNEnv = DefaultPostgresEnv
	}
	b.Recurrence.SetDefaults()
	b.Silences.setDefaults()
	if b.Health.Listen == "" {
		b.Health.Listen = DefaultHealthListen
	}
	b.setIncidentDefaults()
}

func (b *Bot) validate(p string, fe *fieldErrors) {
	s := b.Slack
	sp := p + ".slack"
	if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fe.add(sp+".apiURL", "must be an absolute http or https URL, got %q", s.APIURL)
	} else if !strings.HasSuffix(u.Path, "/") {
		fe.add(sp+".apiURL", "must end with a slash (https://slack.com/api/), got %q", s.APIURL)
	} else if u.User != nil {
		fe.add(sp+".apiURL", "must not contain credentials")
	}
	if s.DevChannel == "" {
		fe.add(sp+".devChannel", "required: the channel id (C...) where anomaly threads are opened")
	} else if !channelID.MatchString(s.DevChannel) {
		fe.add(sp+".devChannel", "want a channel id like C0123ABCD (not a #name), got %q", s.DevChannel)
	}
	if s.OpsChannel != "" && !channelID.MatchString(s.OpsChannel) {
		fe.add(sp+".opsChannel", "want a channel id like C0123ABCD (not a #name), got %q", s.OpsChannel)
	}
	if s.OpsGroup != "" && !usergroupID.MatchString(s.OpsGroup) {
		fe.add(sp+".opsGroup", "want a user group id like S0123ABCD (not a @handle), got %q", s.OpsGroup)
	}
	if s.TeamID != "" && !teamID.MatchString(s.TeamID) {
		fe.add(sp+".teamID", "want a workspace id like T0123ABCD, got %q", s.TeamID)
	}
	if s.AppID != "" && !appID.MatchString(s.AppID) {
		fe.add(sp+".appID", "want an app id like A0123ABCD, got %q", s.AppID)
	}
	if s.EnterpriseID != "" && !enterprise.MatchString(s.EnterpriseID) {
		fe.add(sp+".enterpriseID", "want an Enterprise Grid organization id like E0123ABCD, got %q", s.EnterpriseID)
	}
	seen := map[string]bool{}
	for i, c := range s.AllowedChannels {
		f := fmt.Sprintf("%s.allowedChannels[%d]", sp, i)
		switch {
		case strings.HasPrefix(c, "D") && channelID.MatchString("C"+c[1:]):
			fe.add(f, "%q is a direct message, not a channel: set allowDirectMessages instead", c)
		case !channelID.MatchString(c):
			fe.add(f, "want a channel id like C0123ABCD (not a #name), got %q", c)
		case seen[c]:
			fe.add(f, "%s is listed twice", c)
		}
		seen[c] = true
	}
	if len(s.Deciders.Users)+len(s.Deciders.Groups) == 0 {
		fe.add(sp+".deciders", "at least one user or group is required: who may record decisions")
	}
	for i, u := range s.Deciders.Users {
		if !userID.MatchString(u) {
			fe.add(fmt.Sprintf("%s.deciders.users[%d]", sp, i), "want a user id like U0123ABCD, got %q", u)
		}
	}
	for i, g := range s.Deciders.Groups {
		if !usergroupID.MatchString(g) {
			fe.add(fmt.Sprintf("%s.deciders.groups[%d]", sp, i), "want a user group id like S0123ABCD, got %q", g)
		}
	}

	st := b.Store
	if st.SQLite != nil && st.Postgres != nil {
		fe.add(p+".store", "choose one of sqlite and postgres")
	}
	if st.Postgres != nil && !envVarName.MatchString(st.Postgres.DSNEnv) {
		fe.add(p+".store.postgres.dsnEnv", "want the name of an environment variable, got %q", st.Postgres.DSNEnv)
	}
	if st.SQLite != nil && (strings.HasPrefix(st.SQLite.Path, "file:") || strings.ContainsAny(st.SQLite.Path, "?#")) {
		fe.add(p+".store.sqlite.path", "want a plain file path, got %q", st.SQLite.Path)
	}
	fe.addErr(p+".recurrence", b.Recurrence.Validate())
	b.Silences.validate(p, fe)
	if _, _, err := net.SplitHostPort(b.Health.Listen); err != nil {
		fe.add(p+".health.listen", "want host:port, got %q", b.Health.Listen)
	}
	b.validateIncident(p, fe)
}
