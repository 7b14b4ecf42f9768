package config

import (
	"strings"
	"testing"
)

// FuzzParse: the loader either refuses a document with a message, or
// returns a configuration that is complete and valid: validating it
// again (defaults already set) finds nothing, its default environment is
// one of its environments, and each environment knows its name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"environments:\n  prod:\n    namespaces: [shop]\n",
		"defaultEnvironment: prod\nenvironments:\n  prod: {namespaces: [shop], window: 12h}\n  dev: {namespaces: [shop-dev]}\n",
		"redaction: {keepEmails: true}\nenvironments:\n  prod: {namespaces: [shop]}\n",
		"environments:\n  prod:\n    namespaces: [shop]\n    prometheus: {url: \"https://p.example.com\"}\n    checks: {metrics: {enabled: false}}\n",
		"environments:\n  prod:\n    namespaces: [shop]\n    alertmanager: {url: \"https://admin:x@am.example.com\"}\n",
		"bot:\n  slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U0ALICE]}}\nenvironments:\n  prod: {namespaces: [shop]}\n",
		"environments: {prod: {namespaces: [Shop, shop, shop]}}\n", "", "[]", "environments: 3", "a: &a [*a]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			if cfg != nil || strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("Parse(%q): error %q with config %v", data, err, cfg)
			}
			return
		}
		if err := cfg.setDefaultsAndValidate(); err != nil {
			t.Fatalf("Parse(%q) returned a config that does not validate: %v", data, err)
		}
		if _, ok := cfg.Environments[cfg.DefaultEnvironment]; !ok {
			t.Fatalf("Parse(%q): default environment %q is not one of %v", data, cfg.DefaultEnvironment, cfg.EnvironmentNames())
		}
		for name, env := range cfg.Environments {
			if env == nil || env.Name != name || len(env.Namespaces) == 0 || env.Window <= 0 || env.Timeout <= 0 {
				t.Fatalf("Parse(%q): environment %q incomplete: %+v", data, name, env)
			}
		}
	})
}
