package main

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/version"
	"github.com/opsbot/opsbot/statuspage"
	"github.com/opsbot/opsbot/telemetry"
)

// statusPages are the status page of each environment that has a
// statusPage block. A missing API key is an error naming the key and its
// variable.
func statusPages(cfg *config.Config, getenv func(string) string, metrics *telemetry.Metrics, logger *zap.Logger) (map[string]incident.StatusPageClient, error) {
	pages := map[string]incident.StatusPageClient{}
	for _, name := range cfg.EnvironmentNames() {
		spc, ok, err := cfg.Environments[name].StatusPageConfig(getenv)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		hc := httpx.NewClient(httpx.Options{Version: version.Version})
		hc.Transport = metrics.StatusPageTransport(hc.Transport)
		client, err := statuspage.New(spc, hc, logger.Named("statuspage").With(zap.String("environment", name)))
		if err != nil {
			return nil, fmt.Errorf("environments.%s.%w", name, err)
		}
		pages[name] = client.ForIncidents()
	}
	return pages, nil
}
