// Command ledgerd is the ledger's full node. With no arguments it runs a
// node of the default network (the embedded genesis.json) with its data in
// ~/.ledger. See README.md for the flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "shutting down (signal again to exit at once)")
		stop()
		<-signals
		// The database is consistent at every batch, so exiting at once
		// loses at most the block being written.
		os.Exit(130)
	}()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerd:", err)
		os.Exit(1)
	}
}
