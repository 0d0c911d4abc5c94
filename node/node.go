package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/metrics"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
	"github.com/ledger-node/ledger/p2p"
	"github.com/ledger-node/ledger/rpc"
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
	// NoAddressIndex runs without the address index (state_getTransactions
	// then answers ErrIndexUnavailable); see chain.Config.NoAddressIndex.
	NoAddressIndex bool
	// Mempool holds the pool's limits; Chain, Clock and Logger are set
	// here.
	Mempool mempool.Config
	// PersistMempool saves the pool on shutdown and reloads it on start.
	PersistMempool bool
	// Mine starts the CPU miner with MinerThreads threads paying
	// MinerAddress (bech32); with no address, a key kept in
	// <datadir>/miner.key receives the rewards.
	Mine         bool
	MinerAddress string
	MinerThreads int
	// P2P configures the network layer (DataDir, Chain, Mempool, Clock
	// and Logger are set here). NoP2P runs the node alone.
	P2P   p2p.Config
	NoP2P bool
	// RPC configures the JSON-RPC server (Addr, Token, CORSOrigins,
	// MaxBody, MaxBatch, Version; the parts and Logger are set here). With
	// no Token, a random one is written to <datadir>/rpc.cookie at every
	// start. NoRPC runs without it.
	RPC   rpc.Config
	NoRPC bool
	// MetricsAddr, if not empty, is where Prometheus metrics are served
	// (http://MetricsAddr/metrics); MetricsPprof adds /debug/pprof/ there.
	// Neither is authenticated: keep them on loopback.
	MetricsAddr  string
	MetricsPprof bool
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
	pool  *mempool.Pool
	miner *miner.Miner
	net   *p2p.Node
	rpc   *rpc.Server
	// cookie: the RPC token was written to <datadir>/rpc.cookie.
	cookie bool
	// metrics is nil without Config.MetricsAddr; metricsSrv serves it
	// once Run started it (atomic: MetricsAddr may be called from any
	// goroutine).
	metrics    *metrics.Metrics
	metricsSrv atomic.Pointer[metrics.Server]
}

// New opens the chain store in cfg.DataDir and builds the services.
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
		Dir:            filepath.Join(cfg.DataDir, "chaindata"),
		Genesis:        cfg.Genesis,
		NoAddressIndex: cfg.NoAddressIndex,
		Clock:          cfg.Clock,
		Logger:         cfg.Logger.With("part", "chain"),
	}
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New()
		ccfg.Observer = m
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
	n := &Node{cfg: cfg, log: cfg.Logger, chain: c, metrics: m}
	if err := n.build(); err != nil {
		n.closeAll()
		return nil, err
	}
	if err := n.watchMetrics(); err != nil {
		n.closeAll()
		return nil, err
	}
	return n, nil
}

// watchMetrics points the metrics' gauges at the parts built, passing
// only the non-nil ones (a nil pointer in an interface is not nil).
func (n *Node) watchMetrics() error {
	if n.metrics == nil {
		return nil
	}
	src := metrics.Sources{Chain: n.chain, Pool: n.pool}
	if n.net != nil {
		src.Network = n.net
	}
	if n.miner != nil {
		src.Miner = n.miner
	}
	return n.metrics.Watch(src)
}

func (n *Node) build() error {
	pcfg := n.cfg.Mempool
	pcfg.Chain, pcfg.Clock, pcfg.Logger = n.chain, n.cfg.Clock, n.log.With("part", "mempool")
	if n.metrics != nil {
		pcfg.Observer = n.metrics
	}
	pool, err := mempool.New(pcfg)
	if err != nil {
		return err
	}
	n.pool = pool
	if n.cfg.PersistMempool {
		if loaded, err := pool.Load(n.mempoolFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			n.log.Warn("could not reload the saved mempool", "file", n.mempoolFile(), "err", err)
		} else if loaded > 0 {
			n.log.Info("reloaded saved transactions", "count", loaded)
		}
	}
	if !n.cfg.NoP2P {
		pc := n.cfg.P2P
		pc.DataDir, pc.Chain, pc.Mempool = n.cfg.DataDir, n.chain, pool
		pc.Clock, pc.Logger = n.cfg.Clock, n.log.With("part", "p2p")
		net, err := p2p.New(pc)
		if err != nil {
			return err
		}
		n.net = net
	}
	// Without --mine the miner is still built (not started) when RPC is
	// on: external miners use miner_getTemplate and miner_submitBlock,
	// and miner_start can start it later.
	if !n.cfg.Mine && n.cfg.NoRPC {
		return nil
	}
	addr, err := n.minerAddress()
	if err != nil {
		return err
	}
	m, err := miner.New(miner.Config{
		Chain:   n.chain,
		Pool:    pool,
		Address: addr,
		Threads: n.cfg.MinerThreads,
		Clock:   n.cfg.Clock,
		Logger:  n.log.With("part", "miner"),
		OnBlock: n.publishBlock,
	})
	if err != nil {
		return err
	}
	n.miner = m
	if n.cfg.Mine {
		n.log.Info("mining", "threads", n.cfg.MinerThreads, "address", addr.Bech32(n.cfg.Genesis.Params.AddressPrefix))
	}
	return nil
}

func (n *Node) mempoolFile() string { return filepath.Join(n.cfg.DataDir, "mempool.dat") }

// minerAddress parses the configured address, or loads (creating if
// needed) the data directory's miner key.
func (n *Node) minerAddress() (types.Address, error) {
	hrp := n.cfg.Genesis.Params.AddressPrefix
	if n.cfg.MinerAddress != "" {
		a, err := types.ParseAddress(n.cfg.MinerAddress, hrp)
		if err != nil {
			return a, fmt.Errorf("miner.address: %w", err)
		}
		return a, nil
	}
	path := filepath.Join(n.cfg.DataDir, "miner.key")
	raw, err := os.ReadFile(path)
	var key *secp256k1.PrivateKey
	switch {
	case err == nil:
		b, derr := hex.DecodeString(strings.TrimSpace(string(raw)))
		if derr != nil || len(b) != 32 {
			return types.Address{}, fmt.Errorf("miner key %s: not 64 hex digits", path)
		}
		key = secp256k1.PrivKeyFromBytes(b)
	case errors.Is(err, fs.ErrNotExist):
		if key, err = secp256k1.GeneratePrivateKey(); err != nil {
			return types.Address{}, err
		}
		b := key.Key.Bytes()
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b[:])+"\n"), 0o600); err != nil {
			return types.Address{}, fmt.Errorf("miner key %s: %w", path, err)
		}
		n.log.Info("created a key for mining rewards", "file", path)
	default:
		return types.Address{}, fmt.Errorf("miner key %s: %w", path, err)
	}
	var pub [types.PubKeySize]byte
	copy(pub[:], key.PubKey().SerializeCompressed())
	return types.AddressFromPubKey(&pub), nil
}

// publishBlock announces a block this node mined.
func (n *Node) publishBlock(b *types.Block) {
	if n.net == nil {
		return
	}
	if err := n.net.PublishBlock(b); err != nil {
		n.log.Warn("could not publish a mined block", "hash", b.Hash(), "err", err)
	}
}

// Network returns the node's network layer, or nil when running alone.
func (n *Node) Network() *p2p.Node { return n.net }

// Chain returns the node's chain store.
func (n *Node) Chain() *chain.Chain { return n.chain }

// Pool returns the node's transaction pool.
func (n *Node) Pool() *mempool.Pool { return n.pool }

// Miner returns the node's miner (started only with Config.Mine), or nil
// when the node neither mines nor serves RPC.
func (n *Node) Miner() *miner.Miner { return n.miner }

// Run starts the services, serves until ctx is cancelled, then stops them
// in order, saves the pool if configured and closes the store.
func (n *Node) Run(ctx context.Context) error {
	if n.metrics != nil {
		// First, so that the metrics cover sync from its start.
		s, err := n.metrics.Listen(metrics.ServerConfig{Addr: n.cfg.MetricsAddr, Pprof: n.cfg.MetricsPprof,
			Logger: n.log.With("part", "metrics")})
		if err != nil {
			n.closeAll()
			return fmt.Errorf("metrics: %w", err)
		}
		n.metricsSrv.Store(s)
	}
	if n.net != nil {
		if err := n.net.Start(ctx); err != nil {
			n.closeAll()
			return err
		}
		n.log.Info("network started", "peerId", n.net.ID(), "listen", strings.Join(n.net.Addrs(), " "))
	}
	if n.miner != nil && n.cfg.Mine {
		if err := n.miner.Start(); err != nil {
			n.closeAll()
			return err
		}
	}
	if !n.cfg.NoRPC {
		if err := n.startRPC(); err != nil {
			n.closeAll()
			return err
		}
	}
	<-ctx.Done()
	return n.closeAll()
}

// startRPC serves JSON-RPC, with the configured token or a new cookie.
func (n *Node) startRPC() error {
	rc := n.cfg.RPC
	if rc.Token == "" {
		tok, err := rpc.WriteCookie(n.cfg.DataDir)
		if err != nil {
			return err
		}
		rc.Token, n.cookie = tok, true
	}
	rc.Chain, rc.Pool = n.chain, n.pool
	// Only non-nil parts: a nil *miner.Miner in the interface is not nil.
	if n.miner != nil {
		rc.Miner = n.miner
	}
	if n.net != nil {
		rc.Network = n.net
	}
	rc.Logger = n.log.With("part", "rpc")
	s, err := rpc.New(rc)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("rpc: %w", err)
	}
	n.rpc = s
	if n.cookie {
		n.log.Info("rpc token written", "file", rpc.CookiePath(n.cfg.DataDir))
	}
	return nil
}

// MetricsAddr is the address metrics are served on once Run started
// them, or "".
func (n *Node) MetricsAddr() string {
	if s := n.metricsSrv.Load(); s != nil {
		return s.Addr()
	}
	return ""
}

// RPC returns the JSON-RPC server once Run started it, or nil.
func (n *Node) RPC() *rpc.Server { return n.rpc }

func (n *Node) closeAll() error {
	var errs []error
	if s := n.metricsSrv.Swap(nil); s != nil {
		errs = append(errs, s.Close())
	}
	if n.rpc != nil {
		errs = append(errs, n.rpc.Close())
		n.rpc = nil
	}
	if n.cookie {
		errs = append(errs, rpc.RemoveCookie(n.cfg.DataDir))
		n.cookie = false
	}
	if n.miner != nil {
		n.miner.Stop()
	}
	if n.net != nil {
		errs = append(errs, n.net.Close())
	}
	if n.pool != nil {
		if n.cfg.PersistMempool {
			if err := n.pool.Save(n.mempoolFile()); err != nil {
				errs = append(errs, fmt.Errorf("saving the mempool: %w", err))
			}
		}
		errs = append(errs, n.pool.Close())
	}
	errs = append(errs, n.chain.Close())
	return errors.Join(errs...)
}
