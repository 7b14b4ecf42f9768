package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const minimal = `
environments:
  prod:
    namespaces: [shop]
`

func TestParseMinimalAppliesDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultEnvironment != "prod" {
		t.Errorf("DefaultEnvironment = %q, want the only environment", cfg.DefaultEnvironment)
	}
	env, err := cfg.Environment("")
	if err != nil {
		t.Fatal(err)
	}
	if env.Name != "prod" || time.Duration(env.Window) != 24*time.Hour || time.Duration(env.Timeout) != 30*time.Second {
		t.Errorf("env = %+v, want name prod, window 24h, timeout 30s", env)
	}
	if env.Checks.Pods.Config.RestartThreshold != 5 {
		t.Errorf("pods.restartThreshold = %d, want the default 5", env.Checks.Pods.Config.RestartThreshold)
	}
	if !On(env.Checks.Pods.Enabled, true) || On(env.Checks.Alerts.Enabled, env.Alertmanager != nil) {
		t.Error("pods should be on by default, alerts off without an Alertmanager")
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	path := filepath.Join("..", "..", "opsbot.example.yaml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("the documented example must load: %v", err)
	}
	if got := strings.Join(cfg.EnvironmentNames(), ","); got != "dev,preprod,prod" {
		t.Errorf("example environments = %s", got)
	}
}

// TestExampleSecurityBlockIsValid: the example's security block is
// commented out (the check is off by default); uncommented, it must load
// and turn the check on with both looks.
func TestExampleSecurityBlockIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "opsbot.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const start = "      # security:\n"
	i := strings.Index(string(data), start)
	if i < 0 {
		t.Fatal("the example has no commented security block")
	}
	var block []string
	for _, line := range strings.Split(string(data)[i:], "\n") {
		if !strings.HasPrefix(line, "      #") {
			break
		}
		block = append(block, "      "+strings.TrimPrefix(strings.TrimPrefix(line, "      #"), " "))
	}
	doc := "environments:\n  prod:\n    namespaces: [shop]\n    checks:\n" + strings.Join(block, "\n") + "\n"
	cfg, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("the example's security block, uncommented:\n%s\n%v", doc, err)
	}
	sec := cfg.Environments["prod"].Checks.Security
	if !sec.On(sec.Config.On()) || sec.Config.Vulnerabilities == nil || sec.Config.GitHub == nil || len(sec.Config.GitHub.Workflows) != 2 {
		t.Errorf("the example's security block gives %+v", sec.Config)
	}
}

// TestExampleCommentedChecksAreValid: the PostgreSQL checks the example
// shows commented out (they need a database) parse once uncommented, keys
// and defaults included.
func TestExampleCommentedChecksAreValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "opsbot.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, check := range []string{"integrity", "database"} {
		t.Run(check, func(t *testing.T) {
			const indent = "      "
			start := slices.Index(lines, indent+"# "+check+":")
			if start < 0 {
				t.Fatalf("no commented %s block in the example", check)
			}
			var block []string
			for _, l := range lines[start:] {
				if !strings.HasPrefix(l, indent+"#") {
					break
				}
				block = append(block, indent+strings.TrimPrefix(strings.TrimPrefix(l, indent+"#"), " "))
			}
			doc := "environments:\n  prod:\n    namespaces: [shop]\n    checks:\n" + strings.Join(block, "\n") + "\n"
			cfg, err := Parse([]byte(doc))
			if err != nil {
				t.Fatalf("the commented %s block does not parse: %v\n%s", check, err, doc)
			}
			env := cfg.Environments["prod"]
			if check == "integrity" && len(env.Checks.Integrity.Config.Invariants) != 2 {
				t.Errorf("invariants = %+v", env.Checks.Integrity.Config.Invariants)
			}
			if check == "database" && (!env.Checks.DatabaseOn() || env.Checks.Database.Config.Thresholds.StatementFail == nil) {
				t.Errorf("database = %+v", env.Checks.Database)
			}
		})
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", ``, "the file is empty"},
		{"no environments", `defaultEnvironment: prod`, "environments: at least one environment is required"},
		{"unknown key", `
environments:
  prod:
    namespaces: [shop]
    promethus: {url: http://x}
`, `line 5: unknown key "promethus"`},
		{"unknown check key", `
environments:
  prod:
    namespaces: [shop]
    checks:
      pods: {restartTreshold: 3}
`, `unknown key "restartTreshold"`},
		{"renamed check key", `
environments:
  prod:
    namespaces: [shop]
    checks:
      alertsChannel: {channel: C0123ALERT}
`, `line 6: key "alertsChannel" was renamed "alertschannel"`},
		{"bad type", `
environments:
  prod:
    namespaces: shop
`, "line 4: cannot unmarshal !!str `shop` into []string"},
		{"no namespaces", `
environments:
  prod: {}
`, "environments.prod.namespaces: at least one namespace is required"},
		{"bad namespace", `
environments:
  prod: {namespaces: [Shop_1]}
`, `environments.prod.namespaces[0]: "Shop_1" is not a valid namespace name`},
		{"duplicate namespace", `
environments:
  prod: {namespaces: [shop, shop]}
`, `environments.prod.namespaces[1]: "shop" is listed twice`},
		{"default missing", `
environments:
  dev: {namespaces: [shop]}
  prod: {namespaces: [shop]}
`, "defaultEnvironment: required when there are several environments (have: dev, prod)"},
		{"default unknown", `
defaultEnvironment: staging
environments:
  prod: {namespaces: [shop]}
`, `defaultEnvironment: "staging" is not one of the environments (have: prod)`},
		{"relative url", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: "prometheus:9090"}
`, `environments.prod.prometheus.url: must be an absolute http or https URL, got "prometheus:9090"`},
		{"credentials in url", `
environments:
  prod:
    namespaces: [shop]
    alertmanager: {url: "https://admin:hunter2@am.example.com"}
`, "environments.prod.alertmanager.url: must not contain credentials"},
		{"basic auth without password", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: "https://p.example.com", basicAuth: {username: ops}}
`, "environments.prod.prometheus.basicAuth.passwordEnv: required"},
		{"in-cluster with context", `
environments:
  prod:
    namespaces: [shop]
    kubernetes: {inCluster: true, context: prod}
`, "environments.prod.kubernetes: inCluster cannot be combined with kubeconfig or context"},
		{"negative kubernetes qps", `
environments:
  prod:
    namespaces: [shop]
    kubernetes: {qps: -5}
`, "environments.prod.kubernetes.qps: must be between 0 (no client-side cap) and 10000 requests per second, got -5"},
		{"alerts on without alertmanager", `
environments:
  prod:
    namespaces: [shop]
    checks: {alerts: {enabled: true}}
`, "environments.prod.checks.alerts.enabled: the alerts check needs environments.prod.alertmanager.url"},
		{"security on with nothing to look at", `
environments:
  prod:
    namespaces: [shop]
    checks: {security: {enabled: true}}
`, "environments.prod.checks.security.enabled: the check has nothing to look at: name vulnerabilities, github or both"},
		{"security github without token", `
environments:
  prod:
    namespaces: [shop]
    checks: {security: {github: {workflows: [{repo: acme/shop, workflow: codeql.yml}]}}}
`, "environments.prod.checks.security.github.tokenEnv: required"},
		{"security bad repo", `
environments:
  prod:
    namespaces: [shop]
    checks:
      security:
        github: {tokenEnv: GITHUB_TOKEN, workflows: [{repo: "https://github.com/acme/shop", workflow: codeql.yml}]}
`, `environments.prod.checks.security.github.workflows[0].repo: want owner/name, got "https://github.com/acme/shop"`},
		{"security bad severity", `
environments:
  prod:
    namespaces: [shop]
    checks: {security: {vulnerabilities: {minSeverity: medium}}}
`, `environments.prod.checks.security.vulnerabilities.minSeverity: want high or critical, got "medium"`},
		{"grafana without prometheus", `
environments:
  prod:
    namespaces: [shop]
    checks: {grafana: {files: [dash.json]}}
`, "environments.prod.checks.grafana.enabled: the grafana check needs environments.prod.prometheus.url"},
		{"grafana dashboards without url", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: "https://p.example.com"}
    checks: {grafana: {dashboards: [checkout]}}
`, "environments.prod.checks.grafana.url: required with dashboards"},
		{"grafana bad uid", `
environments:
  prod:
    namespaces: [shop]
    prometheus: {url: "https://p.example.com"}
    checks: {grafana: {url: "https://grafana.example.com", dashboards: ["d/checkout"]}}
`, `environments.prod.checks.grafana.dashboards[0]: "d/checkout" is not a dashboard uid`},
		{"check's own validation", `
environments:
  prod:
    namespaces: [shop]
    checks: {pods: {restartThreshold: -1}}
`, "environments.prod.checks.pods.restartThreshold: must be at least 1, got -1"},
		{"bad duration", `
environments:
  prod:
    namespaces: [shop]
    window: 1 day
`, `line 5: environments.prod.window: unknown unit " day" in duration "1 day"`},
		{"bad size", `
environments:
  prod:
    namespaces: [shop]
    checks:
      logs: {limitBytes: 10 parsecs}
`, `line 6: environments.prod.checks.logs.limitBytes:`},
		{"integrity without dsnEnv", `
environments:
  prod:
    namespaces: [shop]
    checks:
      integrity:
        invariants: [{name: orphans, query: "SELECT id FROM referrals"}]
`, "environments.prod.checks.integrity.dsnEnv: required"},
		{"integrity query of two statements", `
environments:
  prod:
    namespaces: [shop]
    checks:
      integrity:
        dsnEnv: OPS_INTEGRITY_DSN
        invariants: [{name: orphans, query: "SELECT 1 AS id; DROP TABLE referrals"}]
`, "environments.prod.checks.integrity.invariants[0].query: must be one statement"},
		{"database from prometheus without one", `
environments:
  prod:
    namespaces: [shop]
    checks:
      database: {source: prometheus}
`, "environments.prod.checks.database.source: source prometheus needs environments.prod.prometheus.url"},
		{"database pvc without prometheus", `
environments:
  prod:
    namespaces: [shop]
    checks:
      database: {dsnEnv: OPS_DATABASE_DSN, pvc: db/data-postgres-0}
`, "environments.prod.checks.database.pvc: the PVC's capacity comes from environments.prod.prometheus.url, which is not set"},
		{"database thresholds", `
environments:
  prod:
    namespaces: [shop]
    checks:
      database:
        dsnEnv: OPS_DATABASE_DSN
        thresholds: {connectionsWarn: 0.9, connectionsFail: 0.85}
`, "environments.prod.checks.database.thresholds.connectionsFail: must be >= connectionsWarn (0.9), got 0.85"},
		{"database size", `
environments:
  prod:
    namespaces: [shop]
    checks:
      database: {dsnEnv: OPS_DATABASE_DSN, sizeLimit: 50 parsecs}
`, "environments.prod.checks.database.sizeLimit"},
		{"bad environment name", `
environments:
  Prod: {namespaces: [shop]}
`, "environments.Prod: environment names are lower-case letters, digits and dashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	t.Setenv("OPSBOT_TEST_TOKEN", "s3cret")
	if v, err := Secret("prometheus.bearerTokenEnv", "OPSBOT_TEST_TOKEN"); err != nil || v != "s3cret" {
		t.Errorf("Secret = %q, %v", v, err)
	}
	_, err := Secret("environments.prod.prometheus.bearerTokenEnv", "OPSBOT_TEST_UNSET")
	if err == nil || err.Error() != "environments.prod.prometheus.bearerTokenEnv: environment variable OPSBOT_TEST_UNSET is not set" {
		t.Errorf("error = %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("error = %v, want a not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestRedaction(t *testing.T) {
	const env = "\nenvironments:\n  prod:\n    namespaces: [shop]\n"
	line := "mail to alice@example.com with token=s3cret"
	for _, tt := range []struct{ yaml, want string }{
		{env, "mail to [redacted:email] with token=[redacted:secret]"},
		{"redaction: {keepEmails: false}" + env, "mail to [redacted:email] with token=[redacted:secret]"},
		{"redaction: {keepEmails: true}" + env, "mail to alice@example.com with token=[redacted:secret]"},
	} {
		cfg, err := Parse([]byte(tt.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		if got := cfg.Redaction.Redactor().Text(line); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.yaml, got, tt.want)
		}
	}
	if _, err := Parse([]byte("redaction: {keepEmail: true}" + env)); err == nil || !strings.Contains(err.Error(), `unknown key "keepEmail"`) {
		t.Errorf("a misspelt redaction key: %v", err)
	}
}
