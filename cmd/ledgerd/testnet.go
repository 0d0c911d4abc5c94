package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ledger-node/ledger/internal/testnet"
)

// newTestnetCmd is `ledgerd testnet`: a private network of ledgerd
// processes on this machine, in one command. The work is in
// internal/testnet; this reads the flags and runs it.
func newTestnetCmd() *cobra.Command {
	opts := testnet.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "run a private test network of ledgerd nodes on this machine",
		Long: `testnet writes a new network (genesis with a new chain id and a funded
faucet wallet, a data directory and config per node) and runs its nodes as
separate ledgerd processes until Ctrl-C, which stops them all. Given the
--dir of an existing testnet, it restarts that network with its chain.
Node logs go to <dir>/node<N>/ledgerd.log; <dir>/testnet.json describes the
network for scripts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if !f.Changed(testnet.FlagMiners) {
				opts.Miners = opts.Nodes
			}
			var changed []string
			f.Visit(func(fl *pflag.Flag) { changed = append(changed, fl.Name) })
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the ledgerd binary to run the nodes: %w", err)
			}
			n, err := testnet.Prepare(opts, changed, testnet.Env{})
			if err != nil {
				return err
			}
			p := n.Genesis.Params
			if n.Created {
				log.Info("created a new testnet", "dir", n.Dir, "network", p.Name, "chainId", p.ChainID,
					"hashRatePerThread", fmt.Sprintf("%.3g", n.HashRate), "bits", fmt.Sprintf("%08x", p.GenesisBits),
					"blockTime", p.TargetSpacing)
			} else {
				log.Info("restarting the testnet", "dir", n.Dir, "network", p.Name, "chainId", p.ChainID,
					"nodes", n.Options.Nodes, "miners", n.Options.Miners)
			}
			return n.Run(cmd.Context(), testnet.RunConfig{
				Executable: exe,
				Out:        cmd.OutOrStdout(),
				LedgerCLI:  testnet.LedgerCLI(exe),
				Logger:     log,
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Nodes, testnet.FlagNodes, opts.Nodes, fmt.Sprintf("number of nodes, 1 to %d", testnet.MaxNodes))
	f.IntVar(&opts.Miners, testnet.FlagMiners, opts.Miners, "how many nodes mine, one thread each")
	f.Lookup(testnet.FlagMiners).DefValue = "all nodes"
	f.StringVar(&opts.Dir, "dir", "", "directory of the network: new or empty to create one, an existing testnet to restart it (default: a new temporary directory)")
	f.IntVar(&opts.BlockTime, testnet.FlagBlockTime, opts.BlockTime, "target seconds between blocks")
	f.IntVar(&opts.BasePort, testnet.FlagBasePort, opts.BasePort, "node i listens for peers on base+2i and serves RPC on 127.0.0.1:base+2i+1")
	f.StringVar(&opts.Host, testnet.FlagHost, opts.Host, "IP address the nodes listen on for peers; this machine's LAN address lets other machines join")
	return cmd
}
