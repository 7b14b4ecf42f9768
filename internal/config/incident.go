package config

import (
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // bot.timezone without /usr/share/zoneinfo

	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/statuspage"
)

// DefaultTimezone is the bot's time zone when bot.timezone is not set:
// incident times ("From", "Until") and the modal's date and time pickers.
const DefaultTimezone = "Europe/London"

// setIncidentDefaults fills the incident keys of the bot block:
// bot.timezone and bot.slack.incidentChannel (the ops channel, else the
// dev channel).
func (b *Bot) setIncidentDefaults() {
	if b.Timezone == "" {
		b.Timezone = DefaultTimezone
	}
	if b.Slack.IncidentChannel == "" {
		b.Slack.IncidentChannel = b.Slack.OpsChannel
	}
	if b.Slack.IncidentChannel == "" {
		b.Slack.IncidentChannel = b.Slack.DevChannel
	}
}

// validateIncident checks the incident keys of the bot block.
func (b *Bot) validateIncident(p string, fe *fieldErrors) {
	if _, err := time.LoadLocation(b.Timezone); err != nil {
		fe.add(p+".timezone", "want an IANA time zone such as Europe/London, got %q", b.Timezone)
	}
	if c := b.Slack.IncidentChannel; c != "" && !channelID.MatchString(c) {
		fe.add(p+".slack.incidentChannel", "want a channel id like C0123ABCD (not a #name), got %q", c)
	}
	if b.TemplatesDir != "" {
		if st, err := os.Stat(b.TemplatesDir); err != nil || !st.IsDir() {
			fe.add(p+".templatesDir", "want a directory of <name>.tmpl files, got %q", b.TemplatesDir)
		}
	}
}

// Location is the bot's time zone (bot.timezone), validated by Parse.
func (b *Bot) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return nil, fmt.Errorf("bot.timezone: %w", err)
	}
	return loc, nil
}

// validateStatusPage checks an environment's statusPage block, defaults
// applied. The API key is not read here (it is a secret, read at start-up
// by StatusPageConfig), so only the name of its variable is checked.
func (e *Environment) validateStatusPage(p string, fe *fieldErrors) {
	if e.StatusPage == nil {
		return
	}
	e.StatusPage.SetDefaults()
	c := *e.StatusPage
	if c.APIKey == "" {
		c.APIKey = "(read at start-up)"
	}
	fe.addErr(p+".statusPage", c.Validate())
}

// StatusPageConfig returns the environment's status page configuration with
// its API key read from the variable named by apiKeyEnv; ok is false when
// the environment has no statusPage block. The error names the key and the
// variable, never a value.
func (e *Environment) StatusPageConfig(getenv func(string) string) (_ statuspage.Config, ok bool, _ error) {
	if e.StatusPage == nil {
		return statuspage.Config{}, false, nil
	}
	c := *e.StatusPage
	c.SetDefaults()
	key := getenv(c.APIKeyEnv)
	if key == "" {
		return c, true, fmt.Errorf("environments.%s.statusPage.apiKeyEnv: environment variable %s is not set", e.Name, c.APIKeyEnv)
	}
	c.APIKey = httpx.Secret(key)
	return c, true, nil
}
