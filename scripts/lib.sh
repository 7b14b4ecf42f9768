# shellcheck shell=bash
# What scripts/test and scripts/demo share, sourced by both from the
# repository's root: installing what the real test environment (testenv)
# needs when it is missing, and building kube-apiserver and kubectl.
# Idempotent: a second run reuses the installed packages and the cached
# kube-apiserver build.

export GOTOOLCHAIN=local
step() { printf '\n==> %s (%ss)\n' "$*" "$SECONDS"; }

# install_debian_packages [postgresql]: etcd, Prometheus and Alertmanager,
# and PostgreSQL 15 when asked, from Debian if they are missing (as root;
# otherwise it says what to install and exits).
install_debian_packages() {
  local title="Debian packages: etcd, Prometheus, Alertmanager"
  local need=() services=(prometheus prometheus-alertmanager etcd)
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v prometheus >/dev/null || need+=(prometheus)
  command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
  if [ "${1:-}" = postgresql ]; then
    title+=", PostgreSQL"
    [ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
    services+=(postgresql)
  fi
  step "$title"
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})"; exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # The packages' services are not used: testenv starts its own instances
  # on loopback ports with temporary data directories.
  local svc
  for svc in "${services[@]}"; do
    (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
  done
}

# build_kube_binaries: kube-apiserver and kubectl, built from the Go module
# proxy on first use and cached by version; exports OPSBOT_KUBE_BIN_DIR,
# where testenv finds them.
build_kube_binaries() {
  step "kube-apiserver and kubectl (built from the Go module proxy, cached by version)"
  OPSBOT_KUBE_BIN_DIR=$(go run ./testenv/cmd/kubebin)
  export OPSBOT_KUBE_BIN_DIR
  "$OPSBOT_KUBE_BIN_DIR/kube-apiserver" --version
}
