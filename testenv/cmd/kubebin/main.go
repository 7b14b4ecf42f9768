// Command kubebin builds kube-apiserver and kubectl for the integration
// tests, if they are not cached yet, and prints the directory holding them.
// scripts/test runs it before `go test` so the first, slow build (several
// minutes) happens once, outside any test's deadline.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opsbot/opsbot/testenv"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	apiserver, _, err := testenv.KubeBinaries(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubebin:", err)
		os.Exit(1)
	}
	fmt.Println(filepath.Dir(apiserver))
}
