package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// AdminUser is the user name of the admin token (group system:masters).
	AdminUser = "admin"
	// BotUser is the user name of the bot token (group
	// system:authenticated only): it can do what RBAC grants "opsbot",
	// e.g. through deploy/'s Role bound to User "opsbot".
	BotUser = "opsbot"
	// DefaultNodeName is the name of the Node backed by the stub kubelet.
	DefaultNodeName = "testenv-node"
	// KubeconfigContext is the context (and cluster) name in kubeconfig
	// files written by WriteKubeconfig.
	KubeconfigContext = "testenv"

	serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// User is a user of the static token file given to kube-apiserver.
type User struct {
	Name   string
	Groups []string
	// Token is the bearer token; StartKube generates one if empty.
	Token string
}

// KubeOptions configures StartKube. The zero value is usable.
type KubeOptions struct {
	// APIServerPath and KubectlPath default to KubeBinaries.
	APIServerPath, KubectlPath string
	// EtcdPath defaults to etcd in $PATH or /usr/bin.
	EtcdPath string
	// Users are added to the token file besides AdminUser and BotUser.
	Users []User
	// LogSource answers the stub kubelet's log requests. Default: a *Logs
	// registry, returned by Kube.Logs.
	LogSource LogSource
	// NodeName is the Node backed by the stub kubelet (DefaultNodeName).
	NodeName string
	// ExtraAPIServerArgs are appended to kube-apiserver's flags.
	ExtraAPIServerArgs []string
	// TempDir is the parent of the component's temporary directory
	// (default: the system temp dir).
	TempDir string
}

// Kube is a running etcd + kube-apiserver + stub kubelet. Its methods are
// safe for concurrent use.
type Kube struct {
	dir      string
	kubectl  string
	etcd     *process
	etcdURL  string
	api      *process
	url      string
	caData   []byte // nil: the apiserver's certificate could not be verified; clients skip verification
	kubelet  *Kubelet
	logs     *Logs
	nodeName string
	users    map[string]User
	client   kubernetes.Interface

	stopOnce sync.Once
	stopErr  error
}

// StartKube starts etcd, kube-apiserver and a stub kubelet on 127.0.0.1 and
// registers the stub as a Ready Node. ctx bounds start-up only: the
// components run until Stop. Without a deadline in ctx, start-up is bounded
// by 90 s, not counting a build of missing kube binaries (KubeBinaries),
// which only ctx bounds. On error, everything started so far is stopped and
// the error carries the tail of the failing component's log.
func StartKube(ctx context.Context, opts KubeOptions) (_ *Kube, err error) {
	apiserverBin, kubectlBin := opts.APIServerPath, opts.KubectlPath
	if apiserverBin == "" || kubectlBin == "" {
		a, c, err := KubeBinaries(ctx)
		if err != nil {
			return nil, err
		}
		if apiserverBin == "" {
			apiserverBin = a
		}
		if kubectlBin == "" {
			kubectlBin = c
		}
	}
	etcdBin, err := lookBinary(opts.EtcdPath, "etcd-server", "etcd")
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}

	ctx, cancel := startContext(ctx, "kube")
	defer cancel()

	dir, err := makeTempDir(opts.TempDir, "kube")
	if err != nil {
		return nil, err
	}
	k := &Kube{dir: dir, kubectl: kubectlBin, nodeName: opts.NodeName, users: map[string]User{}}
	defer func() {
		if err != nil {
			_ = k.Stop()
		}
	}()
	if k.nodeName == "" {
		k.nodeName = DefaultNodeName
	}

	// Key generation (RSA: ~0.1 s) overlaps with etcd's start.
	keyDone := make(chan error, 1)
	go func() { keyDone <- writeServiceAccountKey(dir) }()

	source := opts.LogSource
	if source == nil {
		k.logs = NewLogs()
		source = k.logs
	}
	if k.kubelet, err = StartKubelet(source); err != nil {
		return nil, err
	}

	if err := k.startEtcd(ctx, etcdBin); err != nil {
		return nil, err
	}
	users := append([]User{
		{Name: AdminUser, Groups: []string{"system:masters"}},
		{Name: BotUser, Groups: []string{"system:authenticated"}},
	}, opts.Users...)
	if err := k.writeTokenFile(users); err != nil {
		return nil, err
	}
	if err := <-keyDone; err != nil {
		return nil, err
	}
	if err := k.startAPIServer(ctx, apiserverBin, opts.ExtraAPIServerArgs); err != nil {
		return nil, err
	}
	if k.client, err = kubernetes.NewForConfig(k.AdminConfig()); err != nil {
		return nil, fmt.Errorf("kube: admin client: %w", err)
	}
	if err := k.registerNode(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Kube) startEtcd(ctx context.Context, bin string) error {
	dataDir := filepath.Join(k.dir, "etcd-data")
	client := &http.Client{Timeout: 2 * time.Second}
	var clientURL string
	p, err := startWithPorts(ctx, 2, func(ports []int) (*process, error) {
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, err
		}
		clientURL = "http://127.0.0.1:" + itoa(ports[0])
		peerURL := "http://127.0.0.1:" + itoa(ports[1])
		return startProcess("etcd", bin, []string{
			"--name=testenv",
			"--data-dir=" + dataDir,
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=testenv=" + peerURL,
			// Accepted by 3.4.23 though `etcd --help` does not list it.
			"--unsafe-no-fsync",
			// A single member elects itself after one election timeout:
			// 1 s by default, 0.1 s here.
			"--heartbeat-interval=10",
			"--election-timeout=100",
			"--logger=zap",
			"--log-outputs=stderr",
		}, k.dir, filepath.Join(k.dir, "etcd.log"), nil)
	}, func(ctx context.Context) (bool, error) {
		ok, body, err := httpOK(ctx, client, clientURL+"/health", "")
		return ok && bytes.Contains(body, []byte(`"true"`)), err
	})
	if err != nil {
		return err
	}
	k.etcd, k.etcdURL = p, clientURL
	return nil
}

func (k *Kube) startAPIServer(ctx context.Context, bin string, extra []string) error {
	certDir := filepath.Join(k.dir, "apiserver-certs")
	insecure := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the cert does not exist yet
	}
	admin := k.users[AdminUser].Token
	var url string
	p, err := startWithPorts(ctx, 1, func(ports []int) (*process, error) {
		url = "https://127.0.0.1:" + itoa(ports[0])
		args := []string{
			"--etcd-servers=" + k.etcdURL,
			"--bind-address=127.0.0.1",
			"--secure-port=" + itoa(ports[0]),
			"--advertise-address=127.0.0.1",
			"--endpoint-reconciler-type=none", // needed with a loopback advertise address
			"--cert-dir=" + certDir,
			"--token-auth-file=" + filepath.Join(k.dir, "tokens.csv"),
			"--authorization-mode=RBAC",
			"--service-account-issuer=" + serviceAccountIssuer,
			"--service-account-key-file=" + filepath.Join(k.dir, "sa.pub"),
			"--service-account-signing-key-file=" + filepath.Join(k.dir, "sa.key"),
			"--service-cluster-ip-range=10.0.0.0/24",
			// No controller-manager creates "default" ServiceAccounts.
			"--disable-admission-plugins=ServiceAccount",
			// The stub kubelet: reached at the Node's InternalIP and
			// daemonEndpoints port. Without --kubelet-certificate-authority
			// the apiserver does not verify the kubelet's certificate.
			"--kubelet-preferred-address-types=InternalIP",
		}
		return startProcess("kube-apiserver", bin, append(args, extra...), k.dir, filepath.Join(k.dir, "kube-apiserver.log"), nil)
	}, func(ctx context.Context) (bool, error) {
		ok, _, err := httpOK(ctx, insecure, url+"/readyz", admin)
		return ok, err
	})
	if err != nil {
		return err
	}
	k.api, k.url = p, url

	// The self-signed serving certificate (and its CA) the apiserver wrote
	// to cert-dir is the kubeconfig's CA, if it verifies for 127.0.0.1.
	ca, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
	if err == nil {
		pool := x509.NewCertPool()
		if pool.AppendCertsFromPEM(ca) {
			verified := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			if ok, _, err := httpOK(ctx, verified, url+"/readyz", admin); ok && err == nil {
				k.caData = ca
			}
			verified.CloseIdleConnections()
		}
	}
	insecure.CloseIdleConnections()
	return nil
}

// startWithPorts starts a process on n fresh ports and waits until ready,
// starting again on new ports (up to portAttempts times) if it died because
// a port was taken in the meantime.
func startWithPorts(ctx context.Context, n int, start func(ports []int) (*process, error), ready func(ctx context.Context) (bool, error)) (*process, error) {
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(n)
		if err != nil {
			return nil, err
		}
		p, err := start(ports)
		if err != nil {
			return nil, err
		}
		err = poll(ctx, p, ready)
		if err == nil {
			return p, nil
		}
		p.stop(0) // let exited() and the log settle
		if p.portClash() && attempt < portAttempts {
			continue
		}
		return nil, p.failure("not ready", err)
	}
}

func (k *Kube) writeTokenFile(users []User) error {
	var b strings.Builder
	for _, u := range users {
		if u.Name == "" {
			return errors.New("kube: a user has no name")
		}
		if _, dup := k.users[u.Name]; dup {
			return fmt.Errorf("kube: user %q given twice", u.Name)
		}
		if u.Token == "" {
			u.Token = randomToken()
		}
		if strings.ContainsAny(u.Token+u.Name+strings.Join(u.Groups, ""), ",\"\n") {
			return fmt.Errorf("kube: user %q: names, groups and tokens cannot contain commas, quotes or newlines", u.Name)
		}
		k.users[u.Name] = u
		// token,user,uid,"group1,group2"
		fmt.Fprintf(&b, "%s,%s,%s,\"%s\"\n", u.Token, u.Name, u.Name, strings.Join(u.Groups, ","))
	}
	if err := os.WriteFile(filepath.Join(k.dir, "tokens.csv"), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("kube: write token file: %w", err)
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// writeServiceAccountKey writes an RSA key pair for service account tokens
// to dir/sa.key and dir/sa.pub.
func writeServiceAccountKey(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("kube: service account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("kube: service account key: %w", err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), priv, 0o600); err != nil {
		return fmt.Errorf("kube: service account key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return fmt.Errorf("kube: service account key: %w", err)
	}
	return nil
}

// registerNode creates the Node backed by the stub kubelet and sets its
// status (addresses, kubelet port, Ready) through the status subresource.
func (k *Kube) registerNode(ctx context.Context) error {
	node, err := k.client.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   k.nodeName,
			Labels: map[string]string{"kubernetes.io/hostname": k.nodeName, "kubernetes.io/os": "linux"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("kube: create node %s: %w", k.nodeName, err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: k.nodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.kubelet.Port())}},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "testenv stub kubelet", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v0.0.0-testenv", OperatingSystem: "linux", Architecture: "amd64"},
	}
	if _, err := k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("kube: set status of node %s: %w", k.nodeName, err)
	}
	return nil
}

// URL is the apiserver's base URL (https://127.0.0.1:<port>).
func (k *Kube) URL() string { return k.url }

// CAData is the PEM CA bundle that verifies the apiserver's certificate, or
// nil if it could not be verified (clients then skip verification).
func (k *Kube) CAData() []byte { return bytes.Clone(k.caData) }

// AdminToken is the bearer token of AdminUser (group system:masters).
func (k *Kube) AdminToken() string { return k.users[AdminUser].Token }

// BotToken is the bearer token of BotUser; it can do only what RBAC grants
// the user "opsbot".
func (k *Kube) BotToken() string { return k.users[BotUser].Token }

// Token returns the bearer token of a user of the token file (AdminUser,
// BotUser or one of KubeOptions.Users), or "" if there is no such user.
func (k *Kube) Token(user string) string { return k.users[user].Token }

// AdminConfig returns a new client config for AdminUser.
func (k *Kube) AdminConfig() *rest.Config { return k.ConfigForToken(k.AdminToken()) }

// ConfigForToken returns a new client config authenticating with a bearer
// token. Client-side rate limiting is off (QPS -1) so test setup is not
// throttled at client-go's default 5 requests per second; set QPS and
// Burst to measure a client as configured in production.
func (k *Kube) ConfigForToken(token string) *rest.Config {
	cfg := &rest.Config{
		Host:        k.url,
		BearerToken: token,
		QPS:         -1,
		UserAgent:   "opsbot-testenv",
	}
	if k.caData != nil {
		cfg.TLSClientConfig.CAData = bytes.Clone(k.caData)
	} else {
		cfg.TLSClientConfig.Insecure = true
	}
	return cfg
}

// Client returns a clientset for AdminUser.
func (k *Kube) Client() kubernetes.Interface { return k.client }

// WriteKubeconfig writes a kubeconfig for user (AdminUser, BotUser or one of
// KubeOptions.Users) to path, with one cluster and one context, both named
// KubeconfigContext, as current context. It works with clientcmd and kubectl.
func (k *Kube) WriteKubeconfig(path, user string) error {
	return k.WriteKubeconfigContext(path, user, KubeconfigContext)
}

// WriteKubeconfigContext is WriteKubeconfig with the cluster and context
// named name.
func (k *Kube) WriteKubeconfigContext(path, user, name string) error {
	u, ok := k.users[user]
	if !ok {
		return fmt.Errorf("kube: no user %q in the token file", user)
	}
	cluster := &clientcmdapi.Cluster{Server: k.url}
	if k.caData != nil {
		cluster.CertificateAuthorityData = bytes.Clone(k.caData)
	} else {
		cluster.InsecureSkipTLSVerify = true
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = cluster
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: u.Token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user}
	cfg.CurrentContext = name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("kube: write kubeconfig: %w", err)
	}
	return nil
}

// KubectlPath is the kubectl binary matching the apiserver.
func (k *Kube) KubectlPath() string { return k.kubectl }

// Kubelet is the stub kubelet behind the Node.
func (k *Kube) Kubelet() *Kubelet { return k.kubelet }

// Logs is the log registry the stub kubelet serves from, or nil if
// KubeOptions.LogSource was given.
func (k *Kube) Logs() *Logs { return k.logs }

// NodeName is the name of the Node backed by the stub kubelet.
func (k *Kube) NodeName() string { return k.nodeName }

// Dir is the temporary directory holding configuration, data and the
// children's logs (etcd.log, kube-apiserver.log). It is removed by Stop.
func (k *Kube) Dir() string { return k.dir }

// Stop stops kube-apiserver, etcd and the stub kubelet and removes the
// temporary directory. It is idempotent and returns the first call's result.
func (k *Kube) Stop() error {
	k.stopOnce.Do(func() {
		if k.api != nil {
			k.api.stop(stopGrace)
		}
		if k.etcd != nil {
			k.etcd.stop(stopGrace)
		}
		if k.kubelet != nil {
			_ = k.kubelet.Close()
		}
		if err := os.RemoveAll(k.dir); err != nil {
			k.stopErr = fmt.Errorf("kube: remove %s: %w", k.dir, err)
		}
	})
	return k.stopErr
}

// Close is Stop, for io.Closer.
func (k *Kube) Close() error { return k.Stop() }
