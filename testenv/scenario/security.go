package scenario

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/opsbot/opsbot/checks/security/githubtest"
	"github.com/opsbot/opsbot/checks/security/trivytest"
	"github.com/opsbot/opsbot/testenv"
)

// GitHubTokenEnv names the environment variable holding the token of the
// scenario's GitHub fake (Checklist.Environ sets it).
const GitHubTokenEnv = "OPSBOT_SHOP_GITHUB_TOKEN"

// The scenario's repository and its two workflows: the security scan's
// latest run on main failed, CI's passed.
const (
	SecurityRepo     = "acme/shop"
	SecurityWorkflow = "codeql.yml"
	CIWorkflow       = "ci.yml"
)

// plantVulnerabilities installs Trivy Operator's CRD and its reports, as
// the operator (an admin) writes them: in Watched the critical and high
// ones of trivytest.Scenario, and in Other a critical one that a check of
// Watched must not show.
func plantVulnerabilities(ctx context.Context, k *testenv.Kube) error {
	admin, err := dynamic.NewForConfig(k.AdminConfig())
	if err != nil {
		return err
	}
	if err := trivytest.ApplyCRD(ctx, admin); err != nil {
		return fmt.Errorf("install Trivy Operator's CRD: %w", err)
	}
	return trivytest.Create(ctx, admin, trivytest.Scenario(Watched, Other)...)
}

// startGitHub starts the GitHub fake serving SecurityRepo's failed
// security scan and passing CI.
func startGitHub() *githubtest.Server {
	gh := githubtest.New()
	gh.AddRepo(SecurityRepo, "main")
	gh.AddWorkflow(SecurityRepo, SecurityWorkflow, "CodeQL")
	gh.AddWorkflow(SecurityRepo, CIWorkflow, "CI")
	started := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	const sha = "9f2c4e1d0b8a7c6e5f4d3c2b1a0f9e8d7c6b5a49"
	gh.AddRun(SecurityRepo, SecurityWorkflow, githubtest.Run{Branch: "main", Status: "completed", Conclusion: "failure", HeadSHA: sha, StartedAt: started})
	gh.AddRun(SecurityRepo, CIWorkflow, githubtest.Run{Branch: "main", Status: "completed", Conclusion: "success", HeadSHA: sha, StartedAt: started})
	return gh
}
