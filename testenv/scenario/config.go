package scenario

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// settleAfter is the scenario config's pendingAfter and rolloutGrace. Every
// planted pod is seconds old, so production's 10m would take the Pending pod
// and the workloads short of replicas for a rollout still settling.
const settleAfter = 2 * time.Second

// NetworkLimit is the scenario config's networkLimit: 12.5 MB/s.
const NetworkLimit = "100Mbit/s"

// ConfigOptions are what the scenario's opsbot.yaml needs to know about
// where it runs.
type ConfigOptions struct {
	// Environment names the one environment, also the default.
	Environment string
	// Kubeconfig is a kubeconfig file's path and Context one of its
	// contexts.
	Kubeconfig, Context string
	// PrometheusURL and AlertmanagerURL are the backends' base URLs
	// (usually the Env's; a test may point one at nothing).
	PrometheusURL, AlertmanagerURL string
}

// Config is an opsbot.yaml (no bot block) whose checklist, run once
// WaitSettled returned, reports every anomaly the scenario plants in
// Watched and nothing else: its thresholds and matchers are the ones the
// planted states are measured against. The security check is in it once
// PlantSecurity returned, the integrity and database checks once Database
// is set; their secrets are read from Environ's variables.
func (c *Checklist) Config(o ConfigOptions) string {
	cfg := fmt.Sprintf(`defaultEnvironment: %[1]s
environments:
  %[1]s:
    kubernetes:
      kubeconfig: %[2]q
      context: %[3]s
    namespaces: [%[4]s]
    window: 24h
    timeout: 30s
    prometheus:
      url: %[5]s
    alertmanager:
      url: %[6]s
    grafana:
      url: https://grafana.example.com/d/shop
    checks:
      pods:
        restartThreshold: 5
        # Every planted pod was created seconds ago: in production these
        # are 10m; here %[7]s, waited out before the first run.
        pendingAfter: %[7]s
        rolloutGrace: %[7]s
      logs:
        top: 10
      alerts:
        matchers: ['namespace="%[4]s"']
        timeout: 5s
      metrics:
        timeout: 5s
        # Each pod's network against what its node's NIC share allows.
        networkLimit: %[11]s
        queries:
          - name: queue-depth
            description: queue depth
            query: %[8]q
            warn: 100
            fail: 1000
      http:
        targets:
          - name: storefront
            url: %[9]s/actuator/health
          - name: payments-api
            url: %[10]s/actuator/health
`, o.Environment, o.Kubeconfig, o.Context, Watched, o.PrometheusURL, o.AlertmanagerURL, settleAfter,
		QueueDepthQuery, c.Health.Storefront.URL, c.Health.PaymentsAPI.URL, NetworkLimit)
	if c.GitHub != nil {
		cfg += fmt.Sprintf(`      # Trivy Operator's reports in the namespaces (the Role of
      # deploy/watched/role lets the bot list them), and the latest run on
      # main of the repository's security scan and CI.
      security:
        vulnerabilities: {}
        github:
          tokenEnv: %[1]s
          apiURL: %[2]s
          workflows:
            - {repo: %[3]s, workflow: %[4]s, branch: main}
            - {repo: %[3]s, workflow: %[5]s, branch: main}
`, GitHubTokenEnv, c.GitHub.URL, SecurityRepo, SecurityWorkflow, CIWorkflow)
	}
	if c.Database != nil {
		cfg += fmt.Sprintf(`      # Both connect with the DSN in $%[1]s: a role that may only
      # SELECT the team's tables, and read the server's activity
      # (pg_monitor).
      integrity:
        dsnEnv: %[1]s
        invariants:
          - name: referrals-orphaned
            description: referrals without a service user
            query: SELECT r.id FROM referrals r LEFT JOIN service_users u ON u.id = r.service_user_id WHERE u.id IS NULL
          - name: appointments-backwards
            description: appointments ending before they start
            query: SELECT id FROM appointments WHERE ends_at < starts_at
            severity: warn
          - name: appointments-orphaned
            description: appointments without a referral
            query: SELECT a.id FROM appointments a LEFT JOIN referrals r ON r.id = a.referral_id WHERE r.id IS NULL
      database:
        dsnEnv: %[1]s
        # The planted sessions are seconds old: in production these are
        # minutes (5m, 15m, 30s); here %[2]s, waited out by WaitSettled.
        # Connections keep their defaults (warn 80%%, fail 95%%).
        thresholds:
          queryWarn: %[2]s
          transactionWarn: %[2]s
          lockWaitWarn: %[2]s
`, DatabaseDSNEnv, pressureAfter)
	}
	return cfg
}

// WaitSettled waits until every pod planted in Watched is older than the
// config's pendingAfter and rolloutGrace, and the planted database
// pressure older than its thresholds. A creationTimestamp has a
// resolution of one second, hence the extra second.
func (c *Checklist) WaitSettled(ctx context.Context) error {
	list, err := c.kube.Client().CoreV1().Pods(Watched).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list planted pods: %w", err)
	}
	var newest time.Time
	for _, p := range list.Items {
		if t := p.CreationTimestamp.Time; t.After(newest) {
			newest = t
		}
	}
	t := time.NewTimer(time.Until(newest.Add(settleAfter + time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.Database != nil {
		return c.Database.waitPressure(ctx)
	}
	return nil
}
