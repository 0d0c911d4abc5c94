package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/genesis"
)

// Config is everything the node needs; cmd/ledgerd fills it from flags,
// the environment and a config file.
type Config struct {
	// DataDir holds every file the node writes.
	DataDir string
	// Genesis is the network.
	Genesis *genesis.Genesis
	// Reindex rebuilds the index and state from stored blocks on start.
	Reindex bool
	// Logger receives everything the node reports.
	Logger *slog.Logger
	// Clock is local time; time.Now if nil.
	Clock func() time.Time
}

// Node is a running full node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	chain *chain.Chain
}

// New opens the chain store in cfg.DataDir.
func New(cfg Config) (*Node, error) {
	if cfg.Genesis == nil {
		return nil, errors.New("node: no genesis")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	ccfg := chain.Config{
		Dir:     filepath.Join(cfg.DataDir, "chaindata"),
		Genesis: cfg.Genesis,
		Clock:   cfg.Clock,
		Logger:  cfg.Logger.With("part", "chain"),
	}
	var (
		c   *chain.Chain
		err error
	)
	if cfg.Reindex {
		cfg.Logger.Info("reindexing: rebuilding the block index and state from stored blocks")
		c, err = chain.Reindex(ccfg)
	} else {
		c, err = chain.Open(ccfg)
	}
	if err != nil {
		return nil, err
	}
	return &Node{cfg: cfg, log: cfg.Logger, chain: c}, nil
}

// Chain returns the node's chain store.
func (n *Node) Chain() *chain.Chain { return n.chain }

// Run serves until ctx is cancelled, then stops every service and closes
// the store.
func (n *Node) Run(ctx context.Context) error {
	<-ctx.Done()
	return n.chain.Close()
}
