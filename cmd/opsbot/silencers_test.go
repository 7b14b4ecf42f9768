package main

import (
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/internal/config"
)

// An environment with an Alertmanager gets a Silencer; one without does
// not, and credentials that are not there stop serve with the field named.
func TestSilencersByEnvironment(t *testing.T) {
	cfg := &config.Config{Environments: map[string]*config.Environment{
		"prod":    {Name: "prod", Alertmanager: &config.Endpoint{URL: "http://alertmanager.monitoring:9093"}},
		"staging": {Name: "staging"},
	}}
	got, err := silencers(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["prod"] == nil {
		t.Errorf("silencers = %v, want one for prod", got)
	}

	t.Setenv("OPSBOT_TEST_AM_TOKEN", "")
	cfg.Environments["prod"].Alertmanager.BearerTokenEnv = "OPSBOT_TEST_AM_TOKEN"
	_, err = silencers(cfg, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "environments.prod.alertmanager.bearerTokenEnv") {
		t.Errorf("missing token: err = %v, want it to name environments.prod.alertmanager.bearerTokenEnv", err)
	}
}
