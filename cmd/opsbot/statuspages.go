package main

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/statuspage"
)

// statusPages are the status page of each environment that has a
// statusPage block. A missing API key is an error naming the key and its
// variable.
func statusPages(cfg *config.Config, getenv func(string) string, logger *zap.Logger) (map[string]incident.StatusPageClient, error) {
	pages := map[string]incident.StatusPageClient{}
	for _, name := range cfg.EnvironmentNames() {
		spc, ok, err := cfg.Environments[name].StatusPageConfig(getenv)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		client, err := statuspage.New(spc, nil, logger.Named("statuspage").With(zap.String("environment", name)))
		if err != nil {
			return nil, fmt.Errorf("environments.%s.%w", name, err)
		}
		pages[name] = client.ForIncidents()
	}
	return pages, nil
}
