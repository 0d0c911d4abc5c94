package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/cliconfig"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/node"
	"github.com/ledger-node/ledger/p2p"
	"github.com/ledger-node/ledger/rpc"
)

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".ledger"
	}
	return filepath.Join(home, ".ledger")
}

// version is reported by node_info; set at build time with
// -ldflags "-X main.version=...".
var version = "dev"

// defineFlags declares every setting. Each is also read from the
// environment (LEDGER_ + name in capitals, dots as underscores) and from the
// config file; flags win over the environment, which wins over the file.
func defineFlags(f *pflag.FlagSet) {
	f.String("config", "", "config file (TOML or YAML)")
	f.String("datadir", defaultDataDir(), "data directory")
	f.String("genesis", "", "genesis file of the network (default: the embedded devnet)")
	f.Bool("reindex", false, "rebuild the block index and state from the stored blocks")
	f.Bool("index.address", true, "keep the address index (state_getTransactions, ledger history); turning it off drops it and saves a few percent of block connection time; turning it on builds it")
	f.Bool("mine", false, "mine blocks")
	f.String("miner.address", "", "address receiving block rewards (default: a key kept in <datadir>/miner.key)")
	f.Int("miner.threads", 1, "mining threads")
	f.Int("mempool.maxcount", mempool.DefaultMaxCount, "most transactions the pool holds")
	f.Int("mempool.maxbytes", mempool.DefaultMaxBytes, "most bytes of transactions the pool holds")
	f.Uint64("mempool.minfee", uint64(mempool.DefaultMinFeePerByte), "minimum relay fee, base units per byte")
	f.Int("mempool.maxpersender", mempool.DefaultMaxPerSender, "most transactions one sender may have in the pool")
	f.Duration("mempool.maxage", mempool.DefaultMaxAge, "how long a transaction may wait in the pool")
	f.Bool("mempool.persist", true, "save the pool on shutdown and reload it on start")
	f.StringSlice("p2p.listen", []string{"/ip4/0.0.0.0/tcp/7400", "/ip4/0.0.0.0/udp/7400/quic-v1"}, "multiaddrs to listen on")
	f.StringSlice("p2p.bootnodes", nil, "multiaddrs with /p2p/ id of nodes to join through")
	f.Int("p2p.maxpeers", 50, "most peers to keep")
	f.Bool("p2p.nat", false, "map the port on the router and punch holes (nodes on other machines)")
	f.Bool("p2p.mdns", false, "find peers on the local network with mDNS")
	f.Bool("p2p.off", false, "run alone, without the network")
	f.String("rpc.addr", rpc.DefaultAddr, "JSON-RPC listen address (loopback only by default)")
	f.String("rpc.token", "", "JSON-RPC bearer token (default: a random one written to <datadir>/rpc.cookie at every start)")
	f.StringSlice("rpc.cors", nil, "origins allowed to call JSON-RPC from a browser, or * (default: none)")
	f.Int("rpc.maxbatch", rpc.DefaultMaxBatch, "most calls in one JSON-RPC batch")
	f.Int64("rpc.maxbody", rpc.DefaultMaxBody, "largest JSON-RPC request body, in bytes")
	f.Bool("rpc.off", false, "do not serve JSON-RPC")
	f.String("metrics.addr", "", "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:7402 (default: off; no authentication)")
	f.Bool("metrics.pprof", false, "also serve /debug/pprof/ on the metrics address")
	f.String("log.level", "info", "log level: debug, info, warn or error")
	f.String("log.format", "text", "log format: text or json")
}

// settings reads every setting with viper's precedence (see
// internal/cliconfig).
func settings(cmd *cobra.Command) (*viper.Viper, error) {
	return cliconfig.Load(cmd.Flags())
}

func newLogger(v *viper.Viper) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(v.GetString("log.level"))); err != nil {
		return nil, fmt.Errorf("log.level %q: want debug, info, warn or error", v.GetString("log.level"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch v.GetString("log.format") {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log.format %q: want text or json", v.GetString("log.format"))
}

// nodeConfig turns settings into the node's Config.
func nodeConfig(v *viper.Viper, log *slog.Logger) (node.Config, error) {
	cfg := node.Config{
		DataDir:        v.GetString("datadir"),
		Reindex:        v.GetBool("reindex"),
		NoAddressIndex: !v.GetBool("index.address"),
		Mine:           v.GetBool("mine"),
		MinerAddress:   v.GetString("miner.address"),
		MinerThreads:   v.GetInt("miner.threads"),
		PersistMempool: v.GetBool("mempool.persist"),
		Mempool: mempool.Config{
			MaxCount:      v.GetInt("mempool.maxcount"),
			MaxBytes:      v.GetInt("mempool.maxbytes"),
			MinFeePerByte: types.Amount(v.GetUint64("mempool.minfee")),
			MaxPerSender:  v.GetInt("mempool.maxpersender"),
			MaxAge:        v.GetDuration("mempool.maxage"),
		},
		P2P: p2p.Config{
			Listen:    v.GetStringSlice("p2p.listen"),
			Bootnodes: v.GetStringSlice("p2p.bootnodes"),
			MaxPeers:  v.GetInt("p2p.maxpeers"),
			NAT:       v.GetBool("p2p.nat"),
			MDNS:      v.GetBool("p2p.mdns"),
		},
		NoP2P: v.GetBool("p2p.off"),
		RPC: rpc.Config{
			Addr:        v.GetString("rpc.addr"),
			Token:       v.GetString("rpc.token"),
			CORSOrigins: v.GetStringSlice("rpc.cors"),
			MaxBatch:    v.GetInt("rpc.maxbatch"),
			MaxBody:     v.GetInt64("rpc.maxbody"),
			Version:     version,
		},
		NoRPC:        v.GetBool("rpc.off"),
		MetricsAddr:  v.GetString("metrics.addr"),
		MetricsPprof: v.GetBool("metrics.pprof"),
		Logger:       log,
	}
	if cfg.RPC.MaxBatch < 1 || cfg.RPC.MaxBatch > 10000 {
		return cfg, fmt.Errorf("rpc.maxbatch %d: want 1 to 10000", cfg.RPC.MaxBatch)
	}
	if cfg.RPC.MaxBody < 1024 {
		return cfg, fmt.Errorf("rpc.maxbody %d: want at least 1024", cfg.RPC.MaxBody)
	}
	if cfg.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
			return cfg, fmt.Errorf("metrics.addr %q: want host:port: %w", cfg.MetricsAddr, err)
		}
	} else if cfg.MetricsPprof {
		return cfg, fmt.Errorf("metrics.pprof needs metrics.addr")
	}
	if cfg.P2P.MaxPeers < 1 {
		return cfg, fmt.Errorf("p2p.maxpeers %d: must be positive", cfg.P2P.MaxPeers)
	}
	if cfg.DataDir == "" {
		return cfg, fmt.Errorf("datadir is empty")
	}
	if cfg.MinerThreads < 1 || cfg.MinerThreads > 1024 {
		return cfg, fmt.Errorf("miner.threads %d: want 1 to 1024", cfg.MinerThreads)
	}
	for name, val := range map[string]int{"mempool.maxcount": cfg.Mempool.MaxCount, "mempool.maxbytes": cfg.Mempool.MaxBytes,
		"mempool.maxpersender": cfg.Mempool.MaxPerSender} {
		if val < 1 {
			return cfg, fmt.Errorf("%s %d: must be positive", name, val)
		}
	}
	if cfg.Mempool.MaxAge <= 0 {
		return cfg, fmt.Errorf("mempool.maxage %v: must be positive", cfg.Mempool.MaxAge)
	}
	if path := v.GetString("genesis"); path != "" {
		g, err := genesis.Load(path)
		if err != nil {
			return cfg, fmt.Errorf("genesis %s: %w", path, err)
		}
		cfg.Genesis = g
	} else {
		cfg.Genesis = genesis.Default()
	}
	return cfg, nil
}

func newRootCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "ledgerd",
		Short:         "ledgerd runs a full node of a proof-of-work ledger",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := settings(cmd)
			if err != nil {
				return err
			}
			log, err := newLogger(v)
			if err != nil {
				return err
			}
			cfg, err := nodeConfig(v, log)
			if err != nil {
				return err
			}
			n, err := node.New(cfg)
			if err != nil {
				return err
			}
			tip := n.Chain().Tip()
			p := cfg.Genesis.Params
			log.Info("node started", "network", p.Name, "chainId", p.ChainID, "genesis", cfg.Genesis.Hash,
				"datadir", cfg.DataDir, "height", tip.Height, "tip", tip.Hash)
			return n.Run(cmd.Context())
		},
	}
	defineFlags(cmd.Flags())
	cmd.AddCommand(newTestnetCmd())
	return cmd
}
