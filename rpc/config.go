package rpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
	"github.com/ledger-node/ledger/p2p"
)

// Defaults.
const (
	DefaultAddr     = "127.0.0.1:7401"
	DefaultMaxBody  = 5 << 20
	DefaultMaxBatch = 100
	DefaultTimeout  = 30 * time.Second
	// DefaultContentLimit bounds mempool_content when no limit is given.
	DefaultContentLimit = 1000
	// DefaultMaxWSConns bounds the open WebSocket connections.
	DefaultMaxWSConns = 100
	// DefaultMaxSubscriptions bounds the subscriptions of one WebSocket
	// connection.
	DefaultMaxSubscriptions = 16
	// DefaultWSQueue bounds the notifications waiting to be written to
	// one WebSocket connection: room for a burst of a few thousand
	// accepted transactions (the pool admits gossip in batches).
	DefaultWSQueue = 4096
	// DefaultWSQueueBytes bounds the estimated bytes of those
	// notifications: a transaction's is about 500 bytes, so a connection
	// with one subscription meets DefaultWSQueue first and one with 16
	// meets this.
	DefaultWSQueueBytes = 4 << 20
)

// Chain is what the API reads from and asks of the chain store
// (*chain.Chain).
type Chain interface {
	Tip() chain.Tip
	BlockByHash(types.Hash) (*types.Block, error)
	BlockByHeight(uint32) (*types.Block, error)
	Transaction(types.Hash) (*types.Tx, chain.TxLocation, types.Hash, bool, error)
	Account(types.Address) (consensus.Account, error)
	AddressTxs(addr types.Address, limit int, cursor *chain.AddressCursor) ([]chain.AddressTx, *chain.AddressCursor, error)
	InvalidateBlock(types.Hash) error
	ReconsiderBlock(types.Hash) error
	Params() *consensus.Params
	GenesisHash() types.Hash
	// Subscribe is called once, by New: there is no unsubscribe, so a
	// closed server ignores what it is given.
	Subscribe(func(chain.Notification))
}

// Pool is the transaction pool (*mempool.Pool).
type Pool interface {
	Add(*types.Tx) error
	Status(types.Hash) mempool.TxStatus
	Get(types.Hash) (*types.Tx, bool)
	PendingNonce(types.Address) (uint64, error)
	Count() int
	Bytes() int
	MinFeeRate() mempool.FeeRate
	Content(limit int) []mempool.ContentTx
	FeeRates() []mempool.RateSample
	// Subscribe is called once, by New, like Chain.Subscribe.
	Subscribe(func(mempool.Accepted))
}

// Miner is the CPU miner and template builder (*miner.Miner).
type Miner interface {
	Start() error
	// StartThreads starts with n hashing threads instead of the
	// configured number.
	StartThreads(n int) error
	Stop()
	// Threads is the number of hashing threads running, 0 when stopped.
	Threads() int
	HashRate() float64
	Hashes() uint64
	Found() uint64
	Template(types.Address) (*miner.Template, error)
	SubmitBlock(*types.Block) (chain.ProcessResult, error)
}

// Network is the peer-to-peer layer (*p2p.Node).
type Network interface {
	ID() peer.ID
	Addrs() []string
	Peers() []p2p.PeerInfo
	Connect(ctx context.Context, addr string) error
	BanPeer(p peer.ID, d time.Duration, reason string) error
	UnbanPeer(p peer.ID) (bool, error)
	Bans() []p2p.Ban
	PublishTx(*types.Tx) error
}

// Config configures a Server. Chain and Pool are required; Miner and
// Network may be nil (their methods then answer ErrUnavailable, and
// node_peers an empty list).
type Config struct {
	// Addr is the TCP address to listen on; DefaultAddr if empty.
	Addr string
	// Token is the bearer token every request must carry. Required: use
	// WriteCookie to make one when none is configured.
	Token string
	// CORSOrigins lists the origins browsers may call from ("*" for any);
	// empty means no CORS headers at all.
	CORSOrigins []string
	// MaxBody bounds a request body in bytes (DefaultMaxBody if 0).
	MaxBody int64
	// MaxBatch bounds the calls in one batch (DefaultMaxBatch if 0).
	MaxBatch int
	// Timeout bounds each HTTP request (DefaultTimeout if 0), each call
	// and each write on a WebSocket.
	Timeout time.Duration
	// MaxWSConns bounds the open WebSocket connections at /ws
	// (DefaultMaxWSConns if 0); upgrades past it get HTTP 503.
	MaxWSConns int
	// MaxSubscriptions bounds one WebSocket connection's subscriptions
	// (DefaultMaxSubscriptions if 0).
	MaxSubscriptions int
	// WSQueue bounds the notifications waiting to be written to one
	// WebSocket connection (DefaultWSQueue if 0), and WSQueueBytes their
	// estimated encoded bytes (DefaultWSQueueBytes if 0); a connection
	// whose queue would pass either is dropped. Answers are not counted:
	// a connection holds at most one, as it reads the next message only
	// once the previous answer is written.
	WSQueue      int
	WSQueueBytes int
	// Version is reported by node_info.
	Version string

	Chain   Chain
	Pool    Pool
	Miner   Miner
	Network Network

	// Logger: slog.Default() if nil.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxWSConns <= 0 {
		c.MaxWSConns = DefaultMaxWSConns
	}
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if c.WSQueue <= 0 {
		c.WSQueue = DefaultWSQueue
	}
	if c.WSQueueBytes <= 0 {
		c.WSQueueBytes = DefaultWSQueueBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
