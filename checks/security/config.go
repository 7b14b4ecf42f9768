package security

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/internal/httpx"
)

// Config is the security check's block of the configuration. The check is
// off unless the block names at least one of its two looks:
//
//	security:
//	  vulnerabilities: {}          # Trivy Operator's reports in the namespaces
//	  github:
//	    tokenEnv: GITHUB_TOKEN
//	    workflows:
//	      - repo: acme/shop
//	        workflow: codeql.yml
type Config struct {
	// Vulnerabilities, if present, reads Trivy Operator's
	// VulnerabilityReports in the environment's namespaces.
	Vulnerabilities *Vulnerabilities `yaml:"vulnerabilities"`
	// GitHub, if present, reads the latest run of CI workflows.
	GitHub *GitHub `yaml:"github"`
	// Timeout bounds the whole check. Default 20s.
	Timeout model.Duration `yaml:"timeout"`
}

// Vulnerabilities configures the look at Trivy Operator's
// VulnerabilityReports.
type Vulnerabilities struct {
	// MinSeverity is the least severity reported: "high" (the default:
	// critical vulnerabilities are Fail findings, high ones Warn) or
	// "critical" (only critical ones, as Fail).
	MinSeverity string `yaml:"minSeverity"`
	// PageSize is the Limit of each List call; the check follows the
	// continue token. Default 100 (reports can be large).
	PageSize int `yaml:"pageSize"`
	// MaxListed is how many vulnerabilities a finding's detail lists, the
	// most severe first. Default 10.
	MaxListed int `yaml:"maxListed"`
}

// GitHub configures the look at CI workflows on GitHub Actions.
type GitHub struct {
	// TokenEnv names the environment variable holding the GitHub token
	// (a fine-grained token with read access to Actions and metadata of
	// the repositories). Required.
	TokenEnv string `yaml:"tokenEnv"`
	// APIURL is the REST API's base URL. Default https://api.github.com
	// (GitHub Enterprise Server: https://HOST/api/v3).
	APIURL string `yaml:"apiURL"`
	// Workflows are the workflows whose latest run is checked.
	Workflows []Workflow `yaml:"workflows"`
}

// Workflow is one CI workflow of a repository.
type Workflow struct {
	// Repo is "owner/name".
	Repo string `yaml:"repo"`
	// Workflow is the workflow's file name (codeql.yml) or numeric id.
	Workflow string `yaml:"workflow"`
	// Branch is the branch whose runs count. Default: the repository's
	// default branch, asked of the API.
	Branch string `yaml:"branch"`
}

// Defaults of the configuration keys.
const (
	DefaultTimeout   = 20 * time.Second
	DefaultPageSize  = 100
	DefaultMaxListed = 10
	DefaultAPIURL    = "https://api.github.com"
)

const maxPageSize = 1000

var (
	// GitHub's owner and repository names: letters, digits, '-', '_', '.'.
	repoRE = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	// A workflow file name or id, as the workflow_id path parameter.
	workflowRE = regexp.MustCompile(`^(?:[0-9]+|[A-Za-z0-9._-]+\.ya?ml)$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// On reports whether the configuration turns on either look.
func (c Config) On() bool { return c.Vulnerabilities != nil || c.GitHub != nil }

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.Timeout == 0 {
		c.Timeout = model.Duration(DefaultTimeout)
	}
	if v := c.Vulnerabilities; v != nil {
		if v.MinSeverity == "" {
			v.MinSeverity = "high"
		}
		if v.PageSize == 0 {
			v.PageSize = DefaultPageSize
		}
		if v.MaxListed == 0 {
			v.MaxListed = DefaultMaxListed
		}
	}
	if g := c.GitHub; g != nil && g.APIURL == "" {
		g.APIURL = DefaultAPIURL
	}
}

// Validate checks the configuration. Errors name the offending key relative
// to the check's block, e.g. `github.workflows[1].repo: ...`.
func (c Config) Validate() error {
	if !c.On() {
		return fmt.Errorf("enabled: the check has nothing to look at: name vulnerabilities, github or both")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout: must be positive, got %s", c.Timeout)
	}
	if v := c.Vulnerabilities; v != nil {
		if v.MinSeverity != "high" && v.MinSeverity != "critical" {
			return fmt.Errorf("vulnerabilities.minSeverity: want high or critical, got %q", v.MinSeverity)
		}
		if v.PageSize < 0 || v.PageSize > maxPageSize {
			return fmt.Errorf("vulnerabilities.pageSize: want 1 to %d, got %d", maxPageSize, v.PageSize)
		}
		if v.MaxListed < 0 {
			return fmt.Errorf("vulnerabilities.maxListed: must be positive, got %d", v.MaxListed)
		}
	}
	if g := c.GitHub; g != nil {
		if g.TokenEnv == "" {
			return fmt.Errorf("github.tokenEnv: required: the name of the environment variable holding the GitHub token")
		}
		if !envNameRE.MatchString(g.TokenEnv) {
			return fmt.Errorf("github.tokenEnv: %q is not an environment variable name", g.TokenEnv)
		}
		if g.APIURL != "" {
			if err := httpx.CheckURL(g.APIURL); err != nil {
				return fmt.Errorf("github.apiURL: %w", err)
			}
		}
		if len(g.Workflows) == 0 {
			return fmt.Errorf("github.workflows: at least one workflow is required")
		}
		seen := map[string]int{}
		for i, w := range g.Workflows {
			p := fmt.Sprintf("github.workflows[%d]", i)
			if !repoRE.MatchString(w.Repo) {
				return fmt.Errorf("%s.repo: want owner/name, got %q", p, w.Repo)
			}
			if !workflowRE.MatchString(w.Workflow) {
				return fmt.Errorf("%s.workflow: want the workflow's file name (codeql.yml) or numeric id, got %q", p, w.Workflow)
			}
			if strings.ContainsAny(w.Branch, " ~^:?*[\\") || strings.HasPrefix(w.Branch, "-") {
				return fmt.Errorf("%s.branch: %q is not a valid branch name", p, w.Branch)
			}
			key := strings.ToLower(w.Repo) + " " + w.Workflow + " " + w.Branch
			if j, dup := seen[key]; dup {
				return fmt.Errorf("%s: the same workflow and branch as github.workflows[%d]", p, j)
			}
			seen[key] = i
		}
	}
	return nil
}
