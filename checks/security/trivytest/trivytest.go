// Package trivytest plants what Trivy Operator writes in a cluster: its
// real VulnerabilityReport CustomResourceDefinition (testdata, Apache-2.0,
// see testdata/README.md) and reports shaped like the ones it writes, for
// the security check's tests against a real kube-apiserver (and client-go's
// fake dynamic client in unit tests).
package trivytest

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// VulnerabilityReports is the resource of the reports.
var VulnerabilityReports = schema.GroupVersionResource{
	Group: "aquasecurity.github.io", Version: "v1alpha1", Resource: "vulnerabilityreports",
}

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

//go:embed testdata/aquasecurity.github.io_vulnerabilityreports.yaml
var crdYAML []byte

//go:embed testdata/report-nginx.yaml
var docsYAML []byte

// ApplyCRD creates the VulnerabilityReport CRD through admin (a dynamic
// client allowed to) and waits until the API server serves it
// (Established), or ctx ends.
func ApplyCRD(ctx context.Context, admin dynamic.Interface) error {
	var m map[string]any
	if err := yaml.Unmarshal(crdYAML, &m); err != nil {
		return fmt.Errorf("the CRD: %w", err)
	}
	crd := &unstructured.Unstructured{Object: m}
	if _, err := admin.Resource(crds).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the CRD: %w", err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := admin.Resource(crds).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get the CRD: %w", err)
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if c, ok := c.(map[string]any); ok && c["type"] == "Established" && c["status"] == "True" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the CRD is not established: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// Vuln is one vulnerability of a Report.
type Vuln struct {
	ID, Severity, Package, Installed, Fixed string
}

// Report is a VulnerabilityReport to plant: a workload's container, its
// image and what Trivy found in it.
type Report struct {
	Namespace, Name                 string
	Kind, Workload, Container       string
	Server, Repository, Tag, Digest string
	// Critical, High and Medium are the summary's counts.
	Critical, High, Medium int
	Vulns                  []Vuln
}

// Object is r as Trivy Operator writes it: the labels naming the workload
// and container, and every field its CRD requires.
func (r Report) Object() *unstructured.Unstructured {
	vs := []any{}
	for _, v := range r.Vulns {
		vs = append(vs, map[string]any{
			"vulnerabilityID": v.ID, "severity": v.Severity, "resource": v.Package, "installedVersion": v.Installed,
			"fixedVersion": v.Fixed, "title": v.Package + ": " + v.ID, "primaryLink": "https://avd.aquasec.com/nvd/" + v.ID,
			"lastModifiedDate": "2026-11-01T10:00:00Z", "publishedDate": "2026-10-01T10:00:00Z",
			"score": 7.5, "links": []any{}, "target": r.Repository + ":" + r.Tag,
		})
	}
	artifact := map[string]any{"repository": r.Repository, "tag": r.Tag}
	if r.Digest != "" {
		artifact["digest"] = r.Digest
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "aquasecurity.github.io/v1alpha1",
		"kind":       "VulnerabilityReport",
		"metadata": map[string]any{
			"name": r.Name, "namespace": r.Namespace,
			"labels": map[string]any{
				"trivy-operator.resource.kind": r.Kind, "trivy-operator.resource.name": r.Workload,
				"trivy-operator.container.name": r.Container, "trivy-operator.resource.namespace": r.Namespace,
				"resource-spec-hash": "7cb64cb677",
			},
		},
		"report": map[string]any{
			"updateTimestamp": "2026-12-06T05:00:00Z",
			"artifact":        artifact,
			"os":              map[string]any{"family": "debian", "name": "12.8"},
			"registry":        map[string]any{"server": r.Server},
			"scanner":         map[string]any{"name": "Trivy", "vendor": "Aqua Security", "version": "0.58.1"},
			"summary": map[string]any{
				"criticalCount": int64(r.Critical), "highCount": int64(r.High), "mediumCount": int64(r.Medium),
				"lowCount": int64(0), "unknownCount": int64(0),
			},
			"vulnerabilities": vs,
		},
	}}
}

// DocsReport is the sample report of Trivy Operator's documentation
// (testdata/report-nginx.yaml: a ReplicaSet of Deployment nginx, two
// critical vulnerabilities, one with a fixed version), in namespace ns.
func DocsReport(ns string) *unstructured.Unstructured {
	var m map[string]any
	if err := yaml.Unmarshal(docsYAML, &m); err != nil {
		panic("trivytest: testdata/report-nginx.yaml: " + err.Error())
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetNamespace(ns)
	labels := u.GetLabels()
	labels["trivy-operator.resource.namespace"] = ns
	u.SetLabels(labels)
	return u
}

// Scenario is the planted reports: in watched, the documentation's
// sample (Deployment nginx, 2 critical), Deployment api during a rollout
// (two ReplicaSets, two tags, 1 critical and 1 high), StatefulSet db (2
// high, 1 medium) and Deployment web (medium only); in other, Deployment
// ledger with a critical one, which a check of watched must not report.
func Scenario(watched, other string) []*unstructured.Unstructured {
	return []*unstructured.Unstructured{
		DocsReport(watched),
		Report{Namespace: watched, Name: "replicaset-api-7d9f8b6c5d-api", Kind: "ReplicaSet", Workload: "api-7d9f8b6c5d", Container: "api",
			Server: "ghcr.io", Repository: "acme/api", Tag: "1.4.1", Critical: 1, High: 1, Vulns: []Vuln{
				{"CVE-2024-45337", "CRITICAL", "golang.org/x/crypto", "v0.29.0", "0.31.0"},
				{"CVE-2025-22869", "HIGH", "golang.org/x/crypto", "v0.29.0", "0.35.0"},
			}}.Object(),
		Report{Namespace: watched, Name: "replicaset-api-5c4b9d7f8-api", Kind: "ReplicaSet", Workload: "api-5c4b9d7f8", Container: "api",
			Server: "ghcr.io", Repository: "acme/api", Tag: "1.4.2", High: 1, Vulns: []Vuln{
				{"CVE-2025-22869", "HIGH", "golang.org/x/crypto", "v0.29.0", "0.35.0"},
			}}.Object(),
		Report{Namespace: watched, Name: "statefulset-db-postgres", Kind: "StatefulSet", Workload: "db", Container: "postgres",
			Server: "index.docker.io", Repository: "library/postgres", Tag: "16.4", High: 2, Medium: 1, Vulns: []Vuln{
				{"CVE-2024-10979", "HIGH", "postgresql-16", "16.4-1", "16.5-1"},
				{"CVE-2024-10978", "HIGH", "postgresql-16", "16.4-1", ""},
				{"CVE-2024-2961", "MEDIUM", "libc6", "2.36-9", "2.36-9+deb12u7"},
			}}.Object(),
		Report{Namespace: watched, Name: "replicaset-web-6b7c8d9f4-web", Kind: "ReplicaSet", Workload: "web-6b7c8d9f4", Container: "web",
			Server: "ghcr.io", Repository: "acme/web", Tag: "2.0.0", Medium: 1, Vulns: []Vuln{
				{"CVE-2024-2961", "MEDIUM", "libc6", "2.36-9", "2.36-9+deb12u7"},
			}}.Object(),
		Report{Namespace: other, Name: "replicaset-ledger-8f9c7d6b5-ledger", Kind: "ReplicaSet", Workload: "ledger-8f9c7d6b5", Container: "ledger",
			Server: "ghcr.io", Repository: "acme/ledger", Tag: "3.1.0", Critical: 1, Vulns: []Vuln{
				{"CVE-2024-3094", "CRITICAL", "xz-utils", "5.6.0-0.2", "5.6.1+really5.4.5-1"},
			}}.Object(),
	}
}

// Create creates objs through client (the admin's: Trivy Operator writes
// them, not opsbot).
func Create(ctx context.Context, client dynamic.Interface, objs ...*unstructured.Unstructured) error {
	for _, o := range objs {
		if _, err := client.Resource(VulnerabilityReports).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create VulnerabilityReport %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}
