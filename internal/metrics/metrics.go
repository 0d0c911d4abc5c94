package metrics

import (
	"errors"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
)

// Label values of the processed counters' result label.
const (
	ResultAccepted = "accepted"
	// ResultOrphan: a block stored to wait for its unknown parent.
	ResultOrphan   = "orphan"
	ResultRejected = "rejected"
)

// Chain is what the gauges read of the chain store.
type Chain interface {
	Tip() chain.Tip
}

// Pool is what the gauges read of the transaction pool.
type Pool interface {
	Count() int
	Bytes() int
}

// Network is what the gauges read of the network layer.
type Network interface {
	PeerCount() int
	// BestKnownHeight is the highest height a connected peer announced.
	BestKnownHeight() uint32
}

// Miner is what the gauges read of the miner.
type Miner interface {
	HashRate() float64
	// Threads is the number of hashing threads running, 0 when stopped.
	Threads() int
}

// Sources are the parts the gauges read when scraped. Chain is required;
// a nil Pool, Network or Miner reads as zero (a node running alone has no
// peers and knows no better height than its own).
type Sources struct {
	Chain   Chain
	Pool    Pool
	Network Network
	Miner   Miner
}

var (
	_ chain.Observer   = (*Metrics)(nil)
	_ mempool.Observer = (*Metrics)(nil)
)

// Metrics holds the node's collectors in a private registry. It
// implements chain.Observer and mempool.Observer.
type Metrics struct {
	reg        *prometheus.Registry
	blocks     *prometheus.CounterVec
	txs        *prometheus.CounterVec
	validation prometheus.Histogram
}

// New makes the registry with the counters, the validation histogram and
// the Go runtime and process collectors; Watch adds the gauges.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_blocks_processed_total",
			Help: "Blocks offered to the chain store (gossip, sync, miner, RPC), by result (accepted, orphan, rejected) and, when rejected, reason (the error kind, or other).",
		}, []string{"result", "reason"}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_txs_processed_total",
			Help: "Transactions offered to the pool (gossip, RPC, saved pool), by result (accepted, rejected) and, when rejected, reason (the error kind, or other; repeats are ErrAlreadyKnown).",
		}, []string{"result", "reason"}),
		validation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ledger_block_validation_seconds",
			Help: "Time the chain store spent on a block that it validated: stored (and connected, if it leads) or refused by a consensus rule. Duplicates, orphans and the store's other refusals are not counted.",
			// 0.5 ms (an empty block) to about 8 s.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		}),
	}
	m.reg.MustRegister(m.blocks, m.txs, m.validation,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Present from the first scrape, so that rates start at zero.
	m.blocks.WithLabelValues(ResultAccepted, "")
	m.blocks.WithLabelValues(ResultOrphan, "")
	m.txs.WithLabelValues(ResultAccepted, "")
	return m
}

// BlockProcessed implements chain.Observer.
func (m *Metrics) BlockProcessed(res chain.ProcessResult, err error, elapsed time.Duration) {
	switch {
	case err == nil && res.Orphan:
		m.blocks.WithLabelValues(ResultOrphan, "").Inc()
		return
	case err == nil:
		m.blocks.WithLabelValues(ResultAccepted, "").Inc()
	default:
		m.blocks.WithLabelValues(ResultRejected, reasonLabel(err)).Inc()
		var re *consensus.RuleError
		if !errors.As(err, &re) {
			return
		}
	}
	m.validation.Observe(elapsed.Seconds())
}

// TxProcessed implements mempool.Observer.
func (m *Metrics) TxProcessed(err error) {
	if err == nil {
		m.txs.WithLabelValues(ResultAccepted, "").Inc()
		return
	}
	m.txs.WithLabelValues(ResultRejected, reasonLabel(err)).Inc()
}

// Watch registers the gauges read from src at every scrape. Call it once,
// when the parts exist.
func (m *Metrics) Watch(src Sources) error {
	if src.Chain == nil {
		return errors.New("metrics: Sources.Chain is required")
	}
	height := func() float64 { return float64(src.Chain.Tip().Height) }
	bestKnown := func() uint32 {
		h := src.Chain.Tip().Height
		if src.Network != nil {
			h = max(h, src.Network.BestKnownHeight())
		}
		return h
	}
	gauge := func(name, help string, fn func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn)
	}
	cs := []prometheus.Collector{
		gauge("ledger_height", "Height of the chain tip.", height),
		gauge("ledger_peers", "Connected peers.", func() float64 {
			if src.Network == nil {
				return 0
			}
			return float64(src.Network.PeerCount())
		}),
		gauge("ledger_sync_best_known_height", "Highest height a connected peer announced, or the tip's if higher.",
			func() float64 { return float64(bestKnown()) }),
		gauge("ledger_sync_progress", "Tip height over the best known height, 0 to 1 (1 when no peer knows more), as node_syncStatus reports it.",
			func() float64 { return syncProgress(src.Chain.Tip().Height, bestKnown()) }),
		gauge("ledger_mempool_txs", "Transactions in the pool.", func() float64 {
			if src.Pool == nil {
				return 0
			}
			return float64(src.Pool.Count())
		}),
		gauge("ledger_mempool_bytes", "Encoded bytes of the transactions in the pool.", func() float64 {
			if src.Pool == nil {
				return 0
			}
			return float64(src.Pool.Bytes())
		}),
		gauge("ledger_miner_hashrate", "Hashes per second of the CPU miner (moving average), 0 when stopped.", func() float64 {
			if src.Miner == nil {
				return 0
			}
			return src.Miner.HashRate()
		}),
		gauge("ledger_miner_running", "1 while the CPU miner runs, else 0.", func() float64 {
			if src.Miner == nil || src.Miner.Threads() == 0 {
				return 0
			}
			return 1
		}),
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// syncProgress is height over best, 1 when best is not above height.
func syncProgress(height, best uint32) float64 {
	if best == 0 || best <= height {
		return 1
	}
	return float64(height) / float64(best)
}

// Gatherer exposes the registry (tests and operator tools).
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves /metrics and, with withPprof, /debug/pprof/; every other
// path is 404.
func (m *Metrics) Handler(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A scrape reads a few locks and counters; more than a few at
		// once is a misconfigured or hostile client.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
