package miner

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
)

// Chain is what the miner needs of the chain store; *chain.Chain
// implements it.
type Chain interface {
	// StateSnapshot gives the tip, its commitment and its accounts,
	// consistently: the template's state root is computed over it.
	StateSnapshot() (*chain.StateSnapshot, error)
	// HeaderByHash reads ancestors for the median time past.
	HeaderByHash(hash types.Hash) (types.Header, error)
	// NextRequiredBitsAfter is the difficulty a child of parent must carry
	// (it depends on the branch's block 1, which the chain's index knows).
	NextRequiredBitsAfter(parent types.Hash) (uint32, error)
	Params() *consensus.Params
	ProcessBlock(blk *types.Block) (chain.ProcessResult, error)
	// Subscribe delivers tip changes; the handler must return quickly.
	Subscribe(fn func(chain.Notification))
}

// Pool is what the miner needs of the transaction pool; *mempool.Pool
// implements it.
type Pool interface {
	// Pending selects executable transactions by fee rate in nonce order.
	Pending(maxBytes, maxCount int) []mempool.Candidate
	// Recheck reports transactions that did not apply to the template's
	// state.
	Recheck(ids []types.Hash) error
	// Subscribe delivers newly accepted transactions (for fee gains).
	Subscribe(fn func(mempool.Accepted))
}

// Defaults for zero Config fields.
const (
	DefaultRebuildInterval = 5 * time.Second
	DefaultMinFeeGain      = types.Amount(1)
)

// Config holds the miner's dependencies.
type Config struct {
	// Chain is required.
	Chain Chain
	// Pool supplies transactions; nil mines empty blocks.
	Pool Pool
	// Address receives the coinbase of blocks this miner finds. Required:
	// consensus refuses a coinbase paying the zero address.
	Address types.Address
	// Threads is the number of hashing goroutines; GOMAXPROCS if zero.
	Threads int
	// MaxBlockBytes and MaxBlockTxs cap the template below the consensus
	// limits; zero means the consensus limit.
	MaxBlockBytes int
	MaxBlockTxs   int
	// RebuildInterval is the least time between two rebuilds caused by
	// pool fees (a new tip rebuilds at once); MinFeeGain is the fee the
	// pool must have gained since the last template to cause one.
	RebuildInterval time.Duration
	MinFeeGain      types.Amount
	// CoinbaseTag is written at the start of the coinbase memo, before the
	// 8-byte extra nonce; at most types.MaxMemoSize-8 bytes.
	CoinbaseTag []byte
	// Clock gives the header time (max(now, median time past + 1)) and
	// paces rebuilds; time.Now if nil.
	Clock func() time.Time
	// OnBlock, if set, is called with every block this miner solved or
	// SubmitBlock received that the chain accepted: the node publishes it.
	// It runs on the miner's goroutine and must not block for long.
	OnBlock func(*types.Block)
	// Logger: slog.Default() if nil.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Chain == nil {
		return c, minerError(ErrBadConfig, "miner: Config.Chain is required")
	}
	if c.Address == (types.Address{}) {
		// Every block paying it would be refused (ErrBadRecipient): better
		// to fail at start than to hash for nothing.
		return c, minerError(ErrBadConfig, "miner: Config.Address is required (the zero address cannot be paid)")
	}
	if len(c.CoinbaseTag) > types.MaxMemoSize-extraNonceSize {
		return c, minerError(ErrBadConfig, "miner: coinbase tag of %d bytes exceeds %d", len(c.CoinbaseTag), types.MaxMemoSize-extraNonceSize)
	}
	if c.Threads <= 0 {
		c.Threads = runtime.GOMAXPROCS(0)
	}
	if c.RebuildInterval <= 0 {
		c.RebuildInterval = DefaultRebuildInterval
	}
	if c.MinFeeGain == 0 {
		c.MinFeeGain = DefaultMinFeeGain
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
