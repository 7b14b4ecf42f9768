package deploy_test

import (
	"os"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSlackAppManifestScopes pins the bot token's scopes: each one is
// what a feature's Web API methods need (the manifest says which), and
// no more. A new scope is a decision: add it here and explain it there.
func TestSlackAppManifestScopes(t *testing.T) {
	raw, err := os.ReadFile("slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuthConfig struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(m.OAuthConfig.Scopes.Bot))
	want := []string{"channels:history", "chat:write", "commands", "files:write", "groups:history", "usergroups:read", "users:read"}
	if !slices.Equal(got, want) {
		t.Errorf("bot scopes %v, want %v", got, want)
	}
}
