// Package deploy_test checks the Kubernetes manifests of deploy/: the
// kustomize base (what `kubectl apply -k deploy/` applies) and the ha
// overlay, rendered by the kubectl the integration tests build, then
// applied to a real kube-apiserver whose PodSecurity admission enforces
// the restricted profile and whose RBAC decides what opsbot's
// ServiceAccount may do.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/testenv"
)

// variant is a kustomization of deploy/, as a directory relative to it.
type variant struct{ name, dir string }

var (
	base = variant{"base", "."}
	ha   = variant{"ha", "overlays/ha"}
)

// restrictedLabel is the namespace label that makes the PodSecurity
// admission refuse pods outside the restricted profile.
const restrictedLabel = "pod-security.kubernetes.io/enforce"

// kubectlPath returns the kubectl the integration tests use (built and
// cached by testenv). It skips with -short and fails when the binary cannot
// be had, like the other integration tests.
func kubectlPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("renders with kubectl (-short)")
	}
	// Without the cache, KubeBinaries builds kubectl and kube-apiserver
	// (minutes); scripts/test does that before the tests.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	_, kubectl, err := testenv.KubeBinaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return kubectl
}

// manifests are the objects a kustomization renders to.
type manifests struct {
	yaml    []byte
	objects []runtime.Object
}

// render runs `kubectl kustomize` on v and decodes what it prints.
func render(t *testing.T, kubectl string, v variant) *manifests {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", v.dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", v.dir, err, stderr.String())
	}
	m := &manifests{yaml: stdout.Bytes()}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(m.yaml)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", v.name, err, doc)
		}
		m.objects = append(m.objects, obj)
	}
	return m
}

// all returns the objects of type T.
func all[T runtime.Object](m *manifests) []T {
	var out []T
	for _, o := range m.objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// one returns the only object of type T, failing the test unless there is
// exactly one.
func one[T runtime.Object](t *testing.T, m *manifests) T {
	t.Helper()
	objs := all[T](m)
	if len(objs) != 1 {
		var zero T
		t.Fatalf("%d objects of type %T, want 1", len(objs), zero)
	}
	return objs[0]
}

// deployed is what the tests need to know about the rendered bot.
type deployed struct {
	deploy    *appsv1.Deployment
	container corev1.Container
	cfg       *config.Config
	// healthPort is the container port named by the probes.
	healthPort int32
	// watched are the namespaces the config's in-cluster environments
	// look at.
	watched []string
}

// inspect finds the Deployment, its container and the config file its
// arguments name, read from the rendered ConfigMap.
func inspect(t *testing.T, m *manifests) deployed {
	t.Helper()
	d := deployed{deploy: one[*appsv1.Deployment](t, m)}
	spec := d.deploy.Spec.Template.Spec
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("pod template has %d containers and %d init containers, want opsbot alone", len(spec.Containers), len(spec.InitContainers))
	}
	d.container = spec.Containers[0]

	// args: serve --config <file on the ConfigMap's mount>.
	args := d.container.Args
	i := slices.Index(args, "--config")
	if len(args) == 0 || args[0] != "serve" || i < 0 || i+1 >= len(args) {
		t.Fatalf("args = %q, want serve --config <file>", args)
	}
	file := args[i+1]
	vol := volumeAt(t, d, path.Dir(file))
	if vol.ConfigMap == nil {
		t.Fatalf("%s is not a ConfigMap volume: %+v", path.Dir(file), vol)
	}
	var data string
	found := false
	for _, cm := range all[*corev1.ConfigMap](m) {
		if cm.Name == vol.ConfigMap.Name && cm.Namespace == d.deploy.Namespace {
			data, found = cm.Data[path.Base(file)]
		}
	}
	if !found {
		t.Fatalf("no ConfigMap %s/%s with key %s", d.deploy.Namespace, vol.ConfigMap.Name, path.Base(file))
	}
	var err error
	if d.cfg, err = config.Parse([]byte(data)); err != nil {
		t.Fatalf("the deployed config: %v", err)
	}
	if d.cfg.Bot == nil {
		t.Fatal("the deployed config has no bot block: opsbot serve refuses to start")
	}
	for _, name := range d.cfg.EnvironmentNames() {
		env, err := d.cfg.Environment(name)
		if err != nil {
			t.Fatal(err)
		}
		if env.Kubernetes.InCluster {
			d.watched = append(d.watched, env.Namespaces...)
		}
	}
	slices.Sort(d.watched)
	d.watched = slices.Compact(d.watched)

	// The health server's port is the one the liveness probe names.
	if lp := d.container.LivenessProbe; lp != nil && lp.HTTPGet != nil {
		for _, p := range d.container.Ports {
			if portIs(lp.HTTPGet.Port, d.container, p.ContainerPort) {
				d.healthPort = p.ContainerPort
			}
		}
	}
	if len(d.watched) == 0 {
		t.Fatal("the deployed config watches no namespace in the cluster (kubernetes.inCluster)")
	}
	return d
}

// volumeAt returns the volume mounted at dir in the container.
func volumeAt(t *testing.T, d deployed, dir string) corev1.Volume {
	t.Helper()
	for _, vm := range d.container.VolumeMounts {
		if path.Clean(vm.MountPath) != path.Clean(dir) {
			continue
		}
		for _, v := range d.deploy.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name {
				return v
			}
		}
		t.Fatalf("mount %s names volume %q, which the pod does not have", dir, vm.Name)
	}
	t.Fatalf("nothing is mounted at %s", dir)
	return corev1.Volume{}
}

// mountAt returns the container's mount at dir.
func mountAt(t *testing.T, d deployed, dir string) corev1.VolumeMount {
	t.Helper()
	for _, vm := range d.container.VolumeMounts {
		if path.Clean(vm.MountPath) == path.Clean(dir) {
			return vm
		}
	}
	t.Fatalf("nothing is mounted at %s", dir)
	return corev1.VolumeMount{}
}

// TestManifests checks the rendered base and ha overlay without a cluster:
// the restricted security context, the probes, the drain, the config the
// pod reads, the Role in every namespace that config watches, the network
// policy and the disruption budget.
func TestManifests(t *testing.T) {
	kubectl := kubectlPath(t)
	uid, gid := dockerfileUser(t)
	secrets := documentedSecrets(t)
	for _, v := range []variant{base, ha} {
		t.Run(v.name, func(t *testing.T) {
			m := render(t, kubectl, v)
			d := inspect(t, m)
			ns := d.deploy.Namespace
			spec := d.deploy.Spec.Template.Spec
			c := d.container

			// The namespace is in the base, labelled restricted.
			found := false
			for _, n := range all[*corev1.Namespace](m) {
				if n.Name == ns {
					found = true
					if n.Labels[restrictedLabel] != "restricted" {
						t.Errorf("namespace %s: %s=%q, want restricted", ns, restrictedLabel, n.Labels[restrictedLabel])
					}
				}
			}
			if !found {
				t.Errorf("no Namespace %s: `kubectl apply -k` fails on a fresh cluster", ns)
			}

			checkSecurityContext(t, spec, c, uid, gid)
			// Where the read-only root filesystem leaves SQLite's
			// temporary files.
			if vol := volumeAt(t, d, "/tmp"); vol.EmptyDir == nil || mountAt(t, d, "/tmp").ReadOnly {
				t.Error("/tmp is not a writable emptyDir")
			}

			// Probes on the health port the config listens on.
			if d.healthPort == 0 {
				t.Fatalf("the liveness probe names no container port: %+v", c.LivenessProbe)
			}
			host, port, err := net.SplitHostPort(d.cfg.Bot.Health.Listen)
			if err != nil || port != strconv.Itoa(int(d.healthPort)) || (host != "" && host != "0.0.0.0" && host != "::") {
				t.Errorf("bot.health.listen = %q, want every interface on the probes' port %d (the kubelet probes the pod's IP)", d.cfg.Bot.Health.Listen, d.healthPort)
			}
			for _, p := range []struct {
				name  string
				probe *corev1.Probe
				path  string
			}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("no HTTP %s probe", p.name)
					continue
				}
				g := p.probe.HTTPGet
				if g.Path != p.path || !portIs(g.Port, c, d.healthPort) {
					t.Errorf("%s probe = %s on port %s, want %s on %d", p.name, g.Path, g.Port.String(), p.path, d.healthPort)
				}
			}

			// Prometheus scrapes /metrics on the same port.
			if p, ok := d.deploy.Spec.Template.Annotations["prometheus.io/port"]; ok && p != strconv.Itoa(int(d.healthPort)) {
				t.Errorf("prometheus.io/port = %s, want the health server's %d", p, d.healthPort)
			}

			// Longer than the in-flight drain on SIGTERM.
			if g := spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= bot.DefaultShutdownTimeout {
				t.Errorf("terminationGracePeriodSeconds = %v, want more than the %v drain", g, bot.DefaultShutdownTimeout)
			}

			for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, lim := c.Resources.Requests[kind], c.Resources.Limits[kind]
				if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
					t.Errorf("%s: request %s, limit %s: want both, request <= limit", kind, req.String(), lim.String())
				}
			}

			// The tokens come from Secrets the user creates, documented in
			// deploy/README.md; nothing secret is rendered.
			if s := all[*corev1.Secret](m); len(s) > 0 {
				t.Errorf("the manifests hold %d Secrets: tokens must come from a Secret the user creates", len(s))
			}
			refs := map[string]corev1.SecretKeySelector{}
			for _, e := range c.Env {
				if strings.Contains(e.Value, "xox") || strings.Contains(e.Value, "xapp-") {
					t.Errorf("env %s holds a literal token", e.Name)
				}
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					refs[e.Name] = *e.ValueFrom.SecretKeyRef
					if !slices.Contains(secrets[e.ValueFrom.SecretKeyRef.Name], e.ValueFrom.SecretKeyRef.Key) {
						t.Errorf("env %s: Secret %s key %s is not in deploy/README.md's `kubectl create secret` commands (%v)",
							e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key, secrets)
					}
				}
			}
			for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"} {
				if _, ok := refs[name]; !ok {
					t.Errorf("env %s does not come from a Secret", name)
				}
			}

			// The store: SQLite on a writable persistent volume, one
			// replica replaced (not rolled); or PostgreSQL with the DSN from
			// a Secret, several replicas.
			st := d.cfg.Bot.Store
			replicas := d.deploy.Spec.Replicas
			switch {
			case st.SQLite != nil:
				dir := path.Dir(st.SQLite.Path)
				if !path.IsAbs(st.SQLite.Path) {
					t.Fatalf("sqlite.path = %q: relative to /, which is read-only", st.SQLite.Path)
				}
				if mountAt(t, d, dir).ReadOnly {
					t.Errorf("the volume at %s (the SQLite file) is read-only", dir)
				}
				vol := volumeAt(t, d, dir)
				if vol.PersistentVolumeClaim == nil {
					t.Errorf("the SQLite file is on %+v, want a PersistentVolumeClaim: it must outlive the pod", vol.VolumeSource)
				} else if !slices.ContainsFunc(all[*corev1.PersistentVolumeClaim](m), func(p *corev1.PersistentVolumeClaim) bool {
					return p.Name == vol.PersistentVolumeClaim.ClaimName && p.Namespace == ns
				}) {
					t.Errorf("no PersistentVolumeClaim %s/%s", ns, vol.PersistentVolumeClaim.ClaimName)
				}
				if replicas == nil || *replicas != 1 || d.deploy.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
					t.Errorf("SQLite with replicas %v and strategy %q: want one replica, Recreate (one writer)", replicas, d.deploy.Spec.Strategy.Type)
				}
			case st.Postgres != nil:
				if _, ok := refs[st.Postgres.DSNEnv]; !ok {
					t.Errorf("postgres.dsnEnv %s is not set from a Secret", st.Postgres.DSNEnv)
				}
				if replicas == nil || *replicas < 2 {
					t.Errorf("PostgreSQL with replicas %v, want at least 2", replicas)
				}
				if len(all[*corev1.PersistentVolumeClaim](m)) > 0 {
					t.Error("a PersistentVolumeClaim without SQLite")
				}
			}
			if v == ha && st.Postgres == nil {
				t.Error("the ha overlay is not on PostgreSQL")
			}

			checkWatched(t, m, d)
			checkNetworkPolicy(t, m, d)

			if sa := spec.ServiceAccountName; !slices.ContainsFunc(all[*corev1.ServiceAccount](m), func(s *corev1.ServiceAccount) bool {
				return s.Name == sa && s.Namespace == ns
			}) {
				t.Errorf("no ServiceAccount %s/%s", ns, sa)
			}

			pdb := one[*policyv1.PodDisruptionBudget](t, m)
			if !selects(pdb.Spec.Selector.MatchLabels, d.deploy.Spec.Template.Labels) || pdb.Namespace != ns {
				t.Errorf("the PodDisruptionBudget %s/%s selects %v, not the pods (%v)", pdb.Namespace, pdb.Name, pdb.Spec.Selector.MatchLabels, d.deploy.Spec.Template.Labels)
			}
			if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
				t.Errorf("PodDisruptionBudget maxUnavailable = %v, want 1 (never blocks a drain of one replica, keeps one of two)", pdb.Spec.MaxUnavailable)
			}
		})
	}
}

// checkSecurityContext requires every field of the restricted Pod Security
// profile on the container (and the pod), and a read-only root filesystem.
func checkSecurityContext(t *testing.T, spec corev1.PodSpec, c corev1.Container, uid, gid int64) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v, want runAsNonRoot and seccompProfile RuntimeDefault", psc)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("the container has no securityContext")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities = %+v, want drop [ALL], add none", sc.Capabilities)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("runAsNonRoot is not true")
	}
	// Numeric, and the image's (deploy/Dockerfile's USER).
	if sc.RunAsUser == nil || *sc.RunAsUser == 0 || *sc.RunAsUser != uid || sc.RunAsGroup == nil || *sc.RunAsGroup != gid {
		t.Errorf("runAsUser/runAsGroup = %v/%v, want the Dockerfile's %d:%d", deref(sc.RunAsUser), deref(sc.RunAsGroup), uid, gid)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %+v, want RuntimeDefault", sc.SeccompProfile)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("privileged")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Error("the pod shares a host namespace")
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// portIs reports whether a probe's port (a name or a number) is the
// container's port number want.
func portIs(p intstr.IntOrString, c corev1.Container, want int32) bool {
	if p.Type == intstr.Int {
		return p.IntVal == want
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort == want
		}
	}
	return false
}

// selects reports whether a label selector's matchLabels select labels.
func selects(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkWatched requires the checklist's Role, bound to the
// ServiceAccount, in exactly the namespaces the config watches, and the
// Lease's Role in opsbot's own.
func checkWatched(t *testing.T, m *manifests, d deployed) {
	t.Helper()
	ns, sa := d.deploy.Namespace, d.deploy.Spec.Template.Spec.ServiceAccountName
	roles := map[string]*rbacv1.Role{}
	for _, r := range all[*rbacv1.Role](m) {
		roles[r.Namespace+"/"+r.Name] = r
	}
	boundIn := func(role string) []string {
		var out []string
		for _, b := range all[*rbacv1.RoleBinding](m) {
			if b.RoleRef.Kind != "Role" || b.RoleRef.Name != role || roles[b.Namespace+"/"+role] == nil {
				continue
			}
			if slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
				return s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace == ns
			}) {
				out = append(out, b.Namespace)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := boundIn("opsbot-checklist"); !slices.Equal(got, d.watched) {
		t.Errorf("the checklist Role is bound to %s/%s in %v; the config watches %v", ns, sa, got, d.watched)
	}
	if s := d.cfg.Bot.Schedule; s.On() {
		if got := boundIn("opsbot-leader"); !slices.Equal(got, []string{ns}) {
			t.Errorf("the Lease Role is bound in %v, want [%s]", got, ns)
		}
		lease := s.LeaderElection.LeaseName
		if lease == "" {
			lease = schedule.DefaultLeaseName
		}
		if r := roles[ns+"/opsbot-leader"]; r == nil || !slices.ContainsFunc(r.Rules, func(p rbacv1.PolicyRule) bool {
			return slices.Contains(p.ResourceNames, lease)
		}) {
			t.Errorf("the Lease Role does not name the Lease %s", lease)
		}
	}
}

// checkNetworkPolicy requires that the policies selecting opsbot let in
// only the health server's port (/healthz, /readyz, /metrics) and let out DNS, HTTPS (Slack, the apiserver) and
// the database in use.
func checkNetworkPolicy(t *testing.T, m *manifests, d deployed) {
	t.Helper()
	var ingress, egress bool
	out := map[string]bool{}
	for _, p := range all[*networkingv1.NetworkPolicy](m) {
		if p.Namespace != d.deploy.Namespace || !selects(p.Spec.PodSelector.MatchLabels, d.deploy.Spec.Template.Labels) {
			continue
		}
		ingress = ingress || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		egress = egress || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		for _, r := range p.Spec.Ingress {
			if len(r.Ports) == 0 {
				t.Errorf("%s: an ingress rule on every port", p.Name)
			}
			for _, port := range r.Ports {
				if port.Port == nil || !portIs(*port.Port, d.container, d.healthPort) || (port.Protocol != nil && *port.Protocol != corev1.ProtocolTCP) {
					t.Errorf("%s: ingress on %v, want the health port %d only", p.Name, port.Port, d.healthPort)
				}
			}
		}
		for _, r := range p.Spec.Egress {
			for _, port := range r.Ports {
				proto := corev1.ProtocolTCP
				if port.Protocol != nil {
					proto = *port.Protocol
				}
				if port.Port != nil {
					out[fmt.Sprintf("%s/%s", proto, port.Port.String())] = true
				}
			}
		}
	}
	if !ingress || !egress {
		t.Fatalf("no NetworkPolicy restricts both ingress and egress of the pods (ingress %v, egress %v)", ingress, egress)
	}
	want := []string{"UDP/53", "TCP/53", "TCP/443", "TCP/6443", "TCP/9090", "TCP/9093", "TCP/3000"}
	if d.cfg.Bot.Store.Postgres != nil {
		want = append(want, "TCP/5432")
	}
	for _, w := range want {
		if !out[w] {
			t.Errorf("no egress on %s", w)
		}
	}
}

// dockerfileUser returns the numeric uid:gid of deploy/Dockerfile's USER.
func dockerfileUser(t *testing.T) (uid, gid int64) {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER\s+(\d+):(\d+)\s*$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("Dockerfile: no numeric USER uid:gid (a user name makes the kubelet refuse runAsNonRoot)")
	}
	uid, _ = strconv.ParseInt(string(m[1]), 10, 64)
	gid, _ = strconv.ParseInt(string(m[2]), 10, 64)
	if uid == 0 {
		t.Fatal("Dockerfile: USER is root")
	}
	return uid, gid
}

// documentedSecrets returns the Secrets, and their keys, that
// deploy/README.md tells the user to create.
func documentedSecrets(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, then read each `kubectl create secret`.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	out := map[string][]string{}
	cmd := regexp.MustCompile(`kubectl -n opsbot create secret generic (\S+)(.*)`)
	key := regexp.MustCompile(`--from-literal=([A-Z_]+)=`)
	for _, m := range cmd.FindAllStringSubmatch(text, -1) {
		for _, k := range key.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], k[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("deploy/README.md has no `kubectl -n opsbot create secret generic` command")
	}
	return out
}

// TestConfigs loads the config files the ConfigMaps are generated from, as
// opsbot does, and requires the ha overlay's to be the base's with the
// PostgreSQL store: they are two copies a person edits.
func TestConfigs(t *testing.T) {
	baseCfg, err := config.Load("base/opsbot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	haCfg, err := config.Load("overlays/ha/opsbot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*config.Config{"base": baseCfg, "ha": haCfg} {
		if c.Bot == nil {
			t.Fatalf("%s: no bot block", name)
		}
		for _, n := range c.EnvironmentNames() {
			env, err := c.Environment(n)
			if err != nil {
				t.Fatal(err)
			}
			if !env.Kubernetes.InCluster {
				t.Errorf("%s: environment %s is not inCluster: it would look for a kubeconfig in the pod", name, n)
			}
		}
	}
	if s := baseCfg.Bot.Store; s.SQLite == nil || !strings.HasPrefix(s.SQLite.Path, "/var/lib/opsbot/") {
		t.Errorf("base store = %+v, want SQLite on the data volume /var/lib/opsbot", s)
	}
	if s := haCfg.Bot.Store; s.Postgres == nil {
		t.Errorf("ha store = %+v, want PostgreSQL", s)
	}
	haCfg.Bot.Store = baseCfg.Bot.Store
	if !reflect.DeepEqual(baseCfg, haCfg) {
		t.Errorf("base/opsbot.yaml and overlays/ha/opsbot.yaml differ in more than the store:\nbase %+v\nha   %+v", baseCfg, haCfg)
	}
}

// TestDockerfileVersion requires the Dockerfile to stamp the build arg
// VERSION into a package-level string variable that exists: the linker
// ignores -X of a symbol that does not, and the image says "dev".
func TestDockerfileVersion(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^ARG VERSION\b`).Match(data) {
		t.Error("Dockerfile: no ARG VERSION")
	}
	m := regexp.MustCompile(`-X ([\w./-]+)\.(\w+)=\$\{?VERSION\}?`).FindSubmatch(data)
	if m == nil {
		t.Fatal("Dockerfile: no -ldflags -X <package>.<var>=${VERSION}")
	}
	pkg, name := string(m[1]), string(m[2])
	const module = "github.com/opsbot/opsbot/"
	if !strings.HasPrefix(pkg, module) {
		t.Fatalf("-X %s.%s: not a package of %s", pkg, name, module)
	}
	dir := filepath.Join("..", filepath.FromSlash(strings.TrimPrefix(pkg, module)))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if id.Name != name {
						continue
					}
					// -X sets a string variable initialised with a
					// constant (or not at all).
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
							t.Errorf("-X %s.%s: not initialised with a string literal", pkg, name)
						}
					}
					return
				}
			}
		}
	}
	t.Errorf("-X %s.%s: no such package-level variable in %s", pkg, name, dir)
}
