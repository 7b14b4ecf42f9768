//go:build tools

// Package kube pins the Kubernetes binaries that opsbot's integration tests run:
// kube-apiserver (the real API server, in front of etcd) and kubectl (the
// by-hand baseline in the checklist benchmark). Nothing here is imported by
// opsbot itself; this module exists so the main go.mod stays free of
// k8s.io/kubernetes. testenv builds these with `go build` and caches
// the binaries by version.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
