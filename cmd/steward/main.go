// Command steward governs Salesforce OAuth client-credentials integrations as
// non-human identities. See 'steward --help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/steward-dev/steward/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.DefaultEnv())
	stop()
	os.Exit(code)
}
