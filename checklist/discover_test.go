package checklist

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func svc(ns, name string, labels map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.ServiceSpec{Ports: ports}}
}

func TestDiscoverTheCommonInstalls(t *testing.T) {
	const host = "https://10.0.0.1:6443/"
	for _, tt := range []struct {
		name             string
		services         []*corev1.Service
		wantProm, wantAM string
	}{
		{"kube-prometheus", []*corev1.Service{
			svc("monitoring", "prometheus-operated", nil, corev1.ServicePort{Name: "web", Port: 9090}),
			svc("monitoring", "prometheus-k8s", map[string]string{"app.kubernetes.io/name": "prometheus"},
				corev1.ServicePort{Name: "web", Port: 9090}, corev1.ServicePort{Name: "reloader-web", Port: 8080}),
			svc("monitoring", "alertmanager-main", nil, corev1.ServicePort{Name: "web", Port: 9093}),
			svc("shop", "api", map[string]string{"app": "api"}, corev1.ServicePort{Name: "http", Port: 80}),
		}, "https://10.0.0.1:6443/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy",
			"https://10.0.0.1:6443/api/v1/namespaces/monitoring/services/alertmanager-main:web/proxy"},
		{"the prometheus chart, by label, an unnamed port", []*corev1.Service{
			svc("observability", "metrics-server-x", map[string]string{"app": "prometheus", "component": "server"},
				corev1.ServicePort{Port: 9090}),
		}, "https://10.0.0.1:6443/api/v1/namespaces/observability/services/metrics-server-x:9090/proxy", ""},
		{"a name without the port is not it", []*corev1.Service{
			svc("monitoring", "prometheus", nil, corev1.ServicePort{Name: "grpc", Port: 10901}),
		}, "", ""},
		{"nothing", nil, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kube := fake.NewClientset()
			for _, s := range tt.services {
				if _, err := kube.CoreV1().Services(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			prom, am, err := Discover(context.Background(), kube, host)
			if err != nil {
				t.Fatal(err)
			}
			url := func(f *Found) string {
				if f == nil {
					return ""
				}
				return f.URL
			}
			if url(prom) != tt.wantProm || url(am) != tt.wantAM {
				t.Errorf("found %q and %q, want %q and %q", url(prom), url(am), tt.wantProm, tt.wantAM)
			}
		})
	}
}
