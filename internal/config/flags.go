package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Overrides are what a command line says about one environment:
// `opsbot checklist -n shop --context prod --prometheus-url ...`. Empty
// fields say nothing.
type Overrides struct {
	// Namespaces replace the environment's namespaces.
	Namespaces []string
	// Kubeconfig and Context pick the cluster as kubectl's flags do.
	Kubeconfig string
	Context    string
	// PrometheusURL and AlertmanagerURL turn the metrics and alerts checks
	// on against these (no credentials: the config file has those keys).
	PrometheusURL   string
	AlertmanagerURL string
}

func (o Overrides) empty() bool {
	return len(o.Namespaces) == 0 && o.Kubeconfig == "" && o.Context == "" && o.PrometheusURL == "" && o.AlertmanagerURL == ""
}

// FromOverrides is the configuration of a run with no file: one
// environment, named name, made of o alone, with every default. It needs
// at least one namespace. Errors name the flag at fault.
func FromOverrides(name string, o Overrides) (*Config, error) {
	if len(o.Namespaces) == 0 {
		return nil, fmt.Errorf("no namespace: say which with -n NAMESPACE (or write a config file: see opsbot.example.yaml)")
	}
	c := &Config{DefaultEnvironment: name, Environments: map[string]*Environment{name: {}}}
	return c, c.Override(name, o)
}

// Override applies o to environment env of c and checks the result as
// Parse checks a file; on error, c is unchanged. Problems are named by the
// config key and the flag ("-n: \"Shop\" is not a valid namespace name").
func (c *Config) Override(env string, o Overrides) error {
	if o.empty() {
		return nil
	}
	e, err := c.Environment(env)
	if err != nil {
		return err
	}
	next := *e
	if len(o.Namespaces) > 0 {
		next.Namespaces = append([]string(nil), o.Namespaces...)
	}
	if o.Kubeconfig != "" || o.Context != "" {
		next.Kubernetes.InCluster = false
		if o.Kubeconfig != "" {
			next.Kubernetes.Kubeconfig = o.Kubeconfig
		}
		if o.Context != "" {
			next.Kubernetes.Context = o.Context
		}
	}
	if o.PrometheusURL != "" {
		next.Prometheus = &Endpoint{URL: o.PrometheusURL}
	}
	if o.AlertmanagerURL != "" {
		next.Alertmanager = &Endpoint{URL: o.AlertmanagerURL}
	}
	next.Name = env
	next.setDefaults()
	var fe fieldErrors
	next.validate("environments."+env, &fe)
	if err := fe.err(); err != nil {
		return flagNames(err)
	}
	*e = next
	return nil
}

// flagNames adds the flag behind a field to an error about it.
func flagNames(err error) error {
	msg := err.Error()
	for field, flag := range map[*regexp.Regexp]string{
		regexp.MustCompile(`environments\.[a-z0-9-]+\.namespaces(\[\d+\])?`): "-n",
		regexp.MustCompile(`environments\.[a-z0-9-]+\.prometheus\.url`):      "--prometheus-url",
		regexp.MustCompile(`environments\.[a-z0-9-]+\.alertmanager\.url`):    "--alertmanager-url",
	} {
		msg = field.ReplaceAllStringFunc(msg, func(m string) string { return m + " (" + flag + ")" })
	}
	return fmt.Errorf("%s", msg)
}

// EnvironmentName makes a valid environment name of s (a kube context:
// "gke_acme_europe-west1_prod" becomes "gke-acme-europe-west1-prod"), or
// "cluster" when nothing is left.
func EnvironmentName(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 32 {
		name = strings.Trim(name[len(name)-32:], "-")
	}
	if name == "" || !envName.MatchString(name) {
		return "cluster"
	}
	return name
}
