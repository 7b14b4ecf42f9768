package config

import (
	"strings"
	"testing"
)

func TestIncidentDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `
bot:
  slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U0ALICE]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Bot
	if b.Timezone != "Europe/London" || b.Slack.IncidentChannel != "C0OPS" || b.TemplatesDir != "" {
		t.Errorf("defaults: timezone %q, incidentChannel %q, templatesDir %q", b.Timezone, b.Slack.IncidentChannel, b.TemplatesDir)
	}
	if loc, err := b.Location(); err != nil || loc.String() != "Europe/London" {
		t.Errorf("Location = %v, %v", loc, err)
	}
	cfg, err = Parse([]byte(minimal + `
bot:
  slack: {devChannel: C0DEV, deciders: {users: [U0ALICE]}}
`))
	if err != nil || cfg.Bot.Slack.IncidentChannel != "C0DEV" {
		t.Errorf("without an ops channel: incidentChannel %q, %v", cfg.Bot.Slack.IncidentChannel, err)
	}
}

func TestStatusPageConfig(t *testing.T) {
	cfg, err := Parse([]byte(`
environments:
  prod:
    namespaces: [shop]
    statusPage: {pageID: page1, components: [cmp1]}
  dev:
    namespaces: [shop]
defaultEnvironment: prod
`))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"STATUSPAGE_API_KEY": "secret-key"}
	getenv := func(k string) string { return env[k] }
	c, ok, err := cfg.Environments["prod"].StatusPageConfig(getenv)
	if err != nil || !ok || c.PageID != "page1" || c.APIKey != "secret-key" || c.BaseURL != "https://api.statuspage.io/v1" ||
		c.APIKeyEnv != "STATUSPAGE_API_KEY" {
		t.Errorf("prod status page = %+v, %v, %v", c, ok, err)
	}
	if _, ok, err := cfg.Environments["dev"].StatusPageConfig(getenv); ok || err != nil {
		t.Errorf("dev has no status page: %v, %v", ok, err)
	}
	delete(env, "STATUSPAGE_API_KEY")
	_, _, err = cfg.Environments["prod"].StatusPageConfig(getenv)
	if err == nil || !strings.Contains(err.Error(), "environments.prod.statusPage.apiKeyEnv: environment variable STATUSPAGE_API_KEY is not set") {
		t.Errorf("missing key: %v", err)
	}
}

func TestIncidentErrorsNameTheField(t *testing.T) {
	bot := `bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}`
	for _, tt := range []struct{ yaml, want string }{
		{minimal + bot + `}, timezone: Mars/Olympus}`, `bot.timezone: want an IANA time zone`},
		{minimal + bot + `, incidentChannel: "#incidents"}}`, `bot.slack.incidentChannel: want a channel id`},
		{minimal + bot + `}, templatesDir: /nonexistent/dir}`, `bot.templatesDir: want a directory`},
		{`
environments:
  prod:
    namespaces: [shop]
    statusPage: {components: [cmp1], apiKeyEnv: "not a var"}
`, "environments.prod.statusPage.pageID: required"},
		{`
environments:
  prod:
    namespaces: [shop]
    statusPage: {pageID: p1, apiKeyEnv: "not a var", componentStatus: broken}
`, `environments.prod.statusPage.apiKeyEnv: "not a var" is not an environment variable name`},
		{`
environments:
  prod:
    namespaces: [shop]
    statusPage: {pageID: p1, apiKey: inline}
`, `unknown key "apiKey"`},
	} {
		_, err := Parse([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.yaml, err, tt.want)
		}
	}
}
