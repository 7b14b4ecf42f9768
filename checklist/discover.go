package checklist

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Found is a backend found in the cluster: its Service, and the URL that
// reaches it through the Kubernetes API server's service proxy (with the
// kubeconfig's credentials: nothing else needs to be reachable).
type Found struct {
	Namespace, Service, Port string
	URL                      string
}

// String is "monitoring/prometheus-k8s".
func (f Found) String() string { return f.Namespace + "/" + f.Service }

// backend says how to recognise one kind of backend among Services: the
// names the common installs give it, best first, the labels they put on
// it, and its port's names and number.
type backend struct {
	names  []string
	labels []string // app.kubernetes.io/name or app values
	ports  []string
	port   int32
}

var (
	// prometheus: prometheus-operator (prometheus-operated), kube-prometheus
	// (prometheus-k8s), kube-prometheus-stack, the prometheus chart
	// (prometheus-server).
	prometheus = backend{
		names:  []string{"prometheus-k8s", "kube-prometheus-stack-prometheus", "prometheus-operated", "prometheus-server", "prometheus"},
		labels: []string{"prometheus"},
		ports:  []string{"web", "http-web", "http"},
		port:   9090,
	}
	alertmanager = backend{
		names:  []string{"alertmanager-main", "kube-prometheus-stack-alertmanager", "alertmanager-operated", "prometheus-alertmanager", "alertmanager"},
		labels: []string{"alertmanager"},
		ports:  []string{"web", "http-web", "http"},
		port:   9093,
	}
)

// Discover looks for Prometheus and Alertmanager among the cluster's
// Services (one List across namespaces), the way the common installs name
// and label them; host is the API server's URL. A nil result was not
// found. An error (typically: not allowed to list Services) means it could
// not look.
func Discover(ctx context.Context, kube kubernetes.Interface, host string) (prom, am *Found, err error) {
	list, err := kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("looking for Prometheus and Alertmanager in the cluster: %w", err)
	}
	return find(list.Items, prometheus, host), find(list.Items, alertmanager, host), nil
}

// find is the best Service for b: by name (in b's order), then by label;
// ties go to the first namespace in alphabetical order.
func find(svcs []corev1.Service, b backend, host string) *Found {
	best, bestRank := -1, len(b.names)+1
	for i, s := range svcs {
		rank := slices.Index(b.names, s.Name)
		if rank < 0 {
			l := s.Labels
			if !slices.Contains(b.labels, l["app.kubernetes.io/name"]) && !slices.Contains(b.labels, l["app"]) {
				continue
			}
			rank = len(b.names)
		}
		if port(s, b) == "" {
			continue
		}
		if rank < bestRank || (rank == bestRank && s.Namespace < svcs[best].Namespace) {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		return nil
	}
	s := svcs[best]
	p := port(s, b)
	return &Found{Namespace: s.Namespace, Service: s.Name, Port: p,
		URL: strings.TrimRight(host, "/") + "/api/v1/namespaces/" + s.Namespace + "/services/" + s.Name + ":" + p + "/proxy"}
}

// port is the name (or number) of s's port for b, "" when it has none.
func port(s corev1.Service, b backend) string {
	for _, want := range b.ports {
		for _, p := range s.Spec.Ports {
			if p.Name == want {
				return p.Name
			}
		}
	}
	for _, p := range s.Spec.Ports {
		if p.Port == b.port {
			if p.Name != "" {
				return p.Name
			}
			return fmt.Sprint(p.Port)
		}
	}
	return ""
}
