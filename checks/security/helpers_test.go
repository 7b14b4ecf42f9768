package security

import (
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// vuln is a vulnerability of a planted report.
type vuln struct {
	id, severity, pkg, installed, fixed string
}

// planted is a VulnerabilityReport to plant: a workload's container and
// its image.
type planted struct {
	namespace, name       string
	kind, workload, ctr   string
	server, repo, tag     string
	critical, high, other int // summary counts
	vulns                 []vuln
}

// object is p as Trivy Operator writes it.
func (p planted) object() *unstructured.Unstructured {
	var vs []any
	for _, v := range p.vulns {
		vs = append(vs, map[string]any{
			"vulnerabilityID": v.id, "severity": v.severity, "resource": v.pkg, "installedVersion": v.installed,
			"fixedVersion": v.fixed, "title": v.pkg + ": " + v.id, "primaryLink": "https://avd.aquasec.com/nvd/" + v.id,
			"lastModifiedDate": "2026-11-01T10:00:00Z", "publishedDate": "2026-10-01T10:00:00Z",
			"score": 7.5, "links": []any{}, "target": p.repo + ":" + p.tag,
		})
	}
	if vs == nil {
		vs = []any{}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "aquasecurity.github.io/v1alpha1",
		"kind":       "VulnerabilityReport",
		"metadata": map[string]any{
			"name": p.name, "namespace": p.namespace,
			"labels": map[string]any{
				labelKind: p.kind, labelName: p.workload, labelContainer: p.ctr,
				"trivy-operator.resource.namespace": p.namespace, "resource-spec-hash": "7cb64cb677",
			},
		},
		"report": map[string]any{
			"updateTimestamp": "2026-12-06T05:00:00Z",
			"artifact":        map[string]any{"repository": p.repo, "tag": p.tag},
			"os":              map[string]any{"family": "debian", "name": "12.8"},
			"registry":        map[string]any{"server": p.server},
			"scanner":         map[string]any{"name": "Trivy", "vendor": "Aqua Security", "version": "0.58.1"},
			"summary": map[string]any{
				"criticalCount": int64(p.critical), "highCount": int64(p.high), "mediumCount": int64(p.other),
				"lowCount": int64(0), "unknownCount": int64(0),
			},
			"vulnerabilities": vs,
		},
	}}
	return u
}

// docsReport is the sample report of Trivy Operator's documentation
// (testdata/report-nginx.yaml), in namespace ns.
func docsReport(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile("testdata/report-nginx.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetNamespace(ns)
	labels := u.GetLabels()
	labels["trivy-operator.resource.namespace"] = ns
	u.SetLabels(labels)
	return u
}

// The planted reports of the scenario, in the watched namespace "shop"
// and in "payments", which is not watched.
func scenarioReports(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	return []*unstructured.Unstructured{
		// The documentation's sample: two critical, one fixable.
		docsReport(t, "shop"),
		// api during a rollout: two ReplicaSets, two tags, the same
		// image repository; a high vulnerability in both, a critical
		// one only in the old one.
		planted{namespace: "shop", name: "replicaset-api-7d9f8b6c5d-api", kind: "ReplicaSet", workload: "api-7d9f8b6c5d", ctr: "api",
			server: "ghcr.io", repo: "acme/api", tag: "1.4.1", critical: 1, high: 1, vulns: []vuln{
				{"CVE-2024-45337", "CRITICAL", "golang.org/x/crypto", "v0.29.0", "0.31.0"},
				{"CVE-2025-22869", "HIGH", "golang.org/x/crypto", "v0.29.0", "0.35.0"},
			}}.object(),
		planted{namespace: "shop", name: "replicaset-api-5c4b9d7f8-api", kind: "ReplicaSet", workload: "api-5c4b9d7f8", ctr: "api",
			server: "ghcr.io", repo: "acme/api", tag: "1.4.2", high: 1, vulns: []vuln{
				{"CVE-2025-22869", "HIGH", "golang.org/x/crypto", "v0.29.0", "0.35.0"},
			}}.object(),
		// db: high only: Warn.
		planted{namespace: "shop", name: "statefulset-db-postgres", kind: "StatefulSet", workload: "db", ctr: "postgres",
			server: "index.docker.io", repo: "library/postgres", tag: "16.4", high: 2, other: 5, vulns: []vuln{
				{"CVE-2024-10979", "HIGH", "postgresql-16", "16.4-1", "16.5-1"},
				{"CVE-2024-10978", "HIGH", "postgresql-16", "16.4-1", ""},
				{"CVE-2024-2961", "MEDIUM", "libc6", "2.36-9", "2.36-9+deb12u7"},
			}}.object(),
		// web: medium and low only: nothing to report.
		planted{namespace: "shop", name: "replicaset-web-6b7c8d9f4-web", kind: "ReplicaSet", workload: "web-6b7c8d9f4", ctr: "web",
			server: "ghcr.io", repo: "acme/web", tag: "2.0.0", other: 1, vulns: []vuln{
				{"CVE-2024-2961", "MEDIUM", "libc6", "2.36-9", "2.36-9+deb12u7"},
			}}.object(),
		// A critical one in a namespace the environment does not watch.
		planted{namespace: "payments", name: "replicaset-ledger-8f9c7d6b5-ledger", kind: "ReplicaSet", workload: "ledger-8f9c7d6b5", ctr: "ledger",
			server: "ghcr.io", repo: "acme/ledger", tag: "3.1.0", critical: 1, vulns: []vuln{
				{"CVE-2024-3094", "CRITICAL", "xz-utils", "5.6.0-0.2", "5.6.1+really5.4.5-1"},
			}}.object(),
	}
}

// summaryOf is a finding in one line, for comparing.
func summaryOf(sev fmt.Stringer, object, title string) string {
	return fmt.Sprintf("%s | %s | %s", sev, object, title)
}
