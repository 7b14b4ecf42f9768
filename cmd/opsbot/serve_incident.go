package main

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// incidentParts are what `opsbot serve` builds for the incident
// procedure: the incident store (the same database as the triage store),
// a status page client per environment that has a statusPage block, the
// bot's time zone and the message templates.
type incidentParts struct {
	incident  bot.IncidentOptions
	location  *time.Location
	templates *templates.Set
}

// buildIncidentParts builds them from the config. A missing status page
// API key is an error naming the key and its variable.
func buildIncidentParts(cfg *config.Config, st triage.Store, getenv func(string) string, logger *zap.Logger) (incidentParts, error) {
	var p incidentParts
	var err error
	if p.location, err = cfg.Bot.Location(); err != nil {
		return p, err
	}
	if p.templates, err = templates.New(cfg.Bot.TemplatesDir); err != nil {
		return p, fmt.Errorf("bot.templatesDir: %w", err)
	}
	p.incident.Channel = cfg.Bot.Slack.IncidentChannel
	if db, ok := st.(interface{ Incidents() *store.Incidents }); ok {
		p.incident.Store = db.Incidents()
	}
	for _, name := range cfg.EnvironmentNames() {
		spc, ok, err := cfg.Environments[name].StatusPageConfig(getenv)
		if err != nil {
			return p, err
		}
		if !ok {
			continue
		}
		client, err := statuspage.New(spc, nil, logger.Named("statuspage").With(zap.String("environment", name)))
		if err != nil {
			return p, fmt.Errorf("environments.%s.%w", name, err)
		}
		if p.incident.StatusPages == nil {
			p.incident.StatusPages = map[string]incident.StatusPageClient{}
		}
		p.incident.StatusPages[name] = client.ForIncidents()
	}
	return p, nil
}
