// Package security is the runbook's security look: what is vulnerable in
// what runs, and which security builds fail. It has two parts, each on
// when its block is configured:
//
// # Vulnerabilities in what runs
//
// Trivy Operator scans the image of every container of every workload and
// writes a VulnerabilityReport (aquasecurity.github.io/v1alpha1) in the
// workload's namespace. For each of the environment's namespaces the check
// makes one paginated List of them (the dynamic client: no Trivy Operator
// Go module), and groups the reports by workload (the labels
// trivy-operator.resource.kind and .name; a ReplicaSet named
// "<deployment>-<pod-template-hash>" counts as its Deployment), container
// (trivy-operator.container.name) and image repository (registry server and
// repository; the tags and digests seen are in the detail). A group with a
// critical vulnerability is a Fail finding, one with high ones only a Warn
// finding (minSeverity: critical leaves high ones out). The counts are the
// distinct vulnerability ids of that severity the reports list, or their
// summaries' counts when larger (a report may list fewer); the detail lists
// the most severe vulnerabilities with their package, installed version
// and fixed version ("no fix yet" when Trivy knows none), and the finding
// links to the first one's page.
//
// The fingerprint is checks.Fingerprint("security", "vulnerabilities",
// namespace, kind, workload, container, registry/repository, "cves-" + a
// hash of the set of critical and high vulnerability ids): no tag, no
// count. A rebuild with the same vulnerabilities is the same anomaly; a new
// vulnerability since the last checklist makes a new fingerprint, so the
// triage shows it as new even when the image's earlier set was decided
// Noise. The finding's Items are its critical and high vulnerability ids;
// given the last checklist run's findings (Options.LastRunFindings: the
// bot's store), the ids the image's finding did not have then are marked
// "(new)" in the detail, with how many are new ("new since the last
// checklist": all of an image not reported then). Nothing is marked on the
// first run, from a terminal (no store), or against a finding saved before
// its ids were kept. A last run that could not list the reports had no
// findings for them, so the next one marks everything new.
//
// When the cluster does not serve VulnerabilityReports (Trivy Operator is
// not installed) or the Role does not grant list on them, the check says so
// (Unknown), naming what to do.
//
// # Builds failing on security
//
// For each configured workflow of a repository on GitHub Actions, the check
// reads the latest run on the configured branch (default: the repository's
// default_branch) through the REST API, and, when that run is queued or in
// progress, the latest completed one. A run that failed, timed out or could
// not start is a Fail finding linking to the run; one cancelled, stale or
// waiting for an approval is a Warn finding; success, neutral and skipped
// pass. A workflow with no completed run on the branch is a Warn finding.
// A 404 (repository or workflow not found, or hidden from the token), a
// 401 or a 403 makes that workflow unknown; once the API's rate limit is
// exhausted (403 or 429 with x-ratelimit-remaining 0, or a Retry-After),
// the remaining workflows are not asked for and the summary says until
// when. The token is sent as a bearer token and never logged.
//
// What could not be read makes the check's status at least Unknown, with
// the reasons in the summary, while the findings it could make are kept.
package security

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/dynamic"

	"github.com/opsbot/opsbot/checks"
)

// name is the check's name, also the first part of its fingerprints.
const name = "security"

// Options are the check's clients and surroundings.
type Options struct {
	// Dynamic reads the VulnerabilityReports; needed when
	// Config.Vulnerabilities is set.
	Dynamic dynamic.Interface
	// Namespaces are the environment's namespaces, whose reports are read.
	Namespaces []string
	// GitHub is the HTTP client of the GitHub API, sending the token
	// (httpx.NewClient with a BearerToken); needed when Config.GitHub is
	// set.
	GitHub *http.Client
	// LastRunFindings, if set, returns the findings of the environment's
	// last checklist run whose fingerprint starts with prefix (ok false:
	// there was none), so that the vulnerabilities new since are marked.
	LastRunFindings func(ctx context.Context, prefix string) (findings []checks.Finding, ok bool, err error)
	// Location is the time zone of times in details (time.Local when nil).
	Location *time.Location
	// Logger may be nil.
	Logger *zap.Logger
}

// Check is the security look.
type Check struct {
	cfg        Config
	dynamic    dynamic.Interface
	namespaces []string
	github     *http.Client
	last       func(ctx context.Context, prefix string) ([]checks.Finding, bool, error)
	loc        *time.Location
	logger     *zap.Logger
}

// New returns the security check. cfg is defaulted and validated.
func New(cfg Config, o Options) (*Check, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Vulnerabilities != nil {
		if o.Dynamic == nil {
			return nil, errors.New("security: reading VulnerabilityReports needs a Kubernetes client")
		}
		if len(o.Namespaces) == 0 {
			return nil, errors.New("security: no namespaces to look at")
		}
	}
	if cfg.GitHub != nil && o.GitHub == nil {
		return nil, errors.New("security: reading workflow runs needs a GitHub API client")
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &Check{cfg: cfg, dynamic: o.Dynamic, namespaces: slices.Clone(o.Namespaces), github: o.GitHub,
		last: o.LastRunFindings, loc: o.Location, logger: o.Logger.With(zap.String("check", name))}, nil
}

// Name returns "security".
func (c *Check) Name() string { return name }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// Run reads the vulnerability reports and the workflow runs and reports
// what is wrong.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(),
		fmt.Errorf("the security check did not finish within %s", c.Timeout()))
	defer cancel()

	var findings []checks.Finding
	var parts, blind []string
	looked := false
	if c.cfg.Vulnerabilities != nil {
		v := c.vulnerabilities(ctx)
		findings = append(findings, v.findings...)
		blind = append(blind, v.blind...)
		if v.listed > 0 {
			looked = true
			parts = append(parts, fmt.Sprintf("%s: %s with critical or high vulnerabilities",
				plural(v.reports, "vulnerability report"), plural(len(v.findings), "image")))
		}
	}
	if c.cfg.GitHub != nil {
		g := c.workflows(ctx)
		findings = append(findings, g.findings...)
		blind = append(blind, g.blind...)
		if g.checked > 0 {
			looked = true
			parts = append(parts, fmt.Sprintf("%s: %d not passing", plural(g.checked, "workflow"), len(g.findings)))
		}
	}
	blind = slices.Compact(blind)
	if !looked {
		return checks.UnknownResult(strings.Join(blind, "; "))
	}
	st := checks.Summarize(findings)
	summary := strings.Join(parts, "; ")
	if len(blind) > 0 {
		st = checks.Worst(st, checks.Unknown)
		summary += "; " + strings.Join(blind, "; ")
	}
	return checks.Result{Status: st, Summary: summary, Findings: findings}
}

// plural is "1 image", "2 images".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
