package mempool

import (
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// Chain is what the pool needs of the chain store; *chain.Chain implements
// it. The pool reads the tip state through snapshots, fills the chain's
// signature cache, and follows the main chain through notifications.
type Chain interface {
	// StateSnapshot returns a consistent view of the tip and its accounts.
	StateSnapshot() (*chain.StateSnapshot, error)
	// Params returns the network's consensus parameters.
	Params() *consensus.Params
	// SigCache returns the cache the chain checks blocks against.
	SigCache() consensus.SigCache
	// GenesisHash identifies the network (persisted pool files carry it).
	GenesisHash() types.Hash
	// Subscribe registers a handler for main-chain changes. The handler is
	// called synchronously on the chain's goroutine and must return quickly.
	Subscribe(fn func(chain.Notification))
}

// Defaults for zero Config fields.
const (
	DefaultMinFeePerByte      = types.Amount(1)
	DefaultMaxCount           = 50_000
	DefaultMaxBytes           = 32 << 20
	DefaultMaxPerSender       = 64
	DefaultMaxNonceGap        = 32
	DefaultReplaceBumpPercent = 10
	DefaultMaxAge             = 3 * time.Hour
	DefaultRecentCount        = 10_000
	DefaultRecentAge          = time.Hour
)

// Config holds the pool's dependencies and limits. Zero fields take the
// defaults above.
type Config struct {
	// Chain is the chain store the pool follows. Required.
	Chain Chain
	// MinFeePerByte is the minimum relay fee rate, in base units per byte
	// of encoded transaction.
	MinFeePerByte types.Amount
	// MaxCount and MaxBytes bound the whole pool (transactions, and the sum
	// of their encoded sizes). When full, the lowest fee rates go first.
	MaxCount int
	MaxBytes int
	// MaxPerSender bounds one sender's transactions, executable and queued.
	MaxPerSender int
	// MaxNonceGap bounds how far beyond the sender's next executable nonce
	// a queued (future) transaction's nonce may be.
	MaxNonceGap uint64
	// ReplaceBumpPercent is how much higher, in percent of the old fee, the
	// fee of a replacement (same sender and nonce) must be.
	ReplaceBumpPercent uint64
	// MaxTxSize bounds a transaction's encoded size; types.MaxTxSize if
	// zero (a smaller value is a local policy).
	MaxTxSize int
	// MaxAge is how long a transaction may wait in the pool.
	MaxAge time.Duration
	// RecentCount and RecentAge bound the memory of why recently seen
	// transactions left the pool or were refused (see Status).
	RecentCount int
	RecentAge   time.Duration
	// VerifyWorkers is how many goroutines verify signatures in AddBatch
	// and Load; GOMAXPROCS if zero.
	VerifyWorkers int
	// Clock returns local time (arrival, expiry, history); time.Now if nil.
	Clock func() time.Time
	// Logger receives warnings and debug traces; slog.Default() if nil.
	Logger *slog.Logger
	// Observer, if not nil, hears the outcome of every transaction
	// offered (see Observer).
	Observer Observer
}

func (c Config) withDefaults() (Config, error) {
	if c.Chain == nil {
		return c, errors.New("mempool: Config.Chain is required")
	}
	if c.MinFeePerByte == 0 {
		c.MinFeePerByte = DefaultMinFeePerByte
	}
	if c.MaxCount <= 0 {
		c.MaxCount = DefaultMaxCount
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxPerSender <= 0 {
		c.MaxPerSender = DefaultMaxPerSender
	}
	if c.MaxNonceGap == 0 {
		c.MaxNonceGap = DefaultMaxNonceGap
	}
	if c.ReplaceBumpPercent == 0 {
		c.ReplaceBumpPercent = DefaultReplaceBumpPercent
	}
	if c.MaxTxSize <= 0 || c.MaxTxSize > types.MaxTxSize {
		c.MaxTxSize = types.MaxTxSize
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.RecentCount <= 0 {
		c.RecentCount = DefaultRecentCount
	}
	if c.RecentAge <= 0 {
		c.RecentAge = DefaultRecentAge
	}
	if c.VerifyWorkers <= 0 {
		c.VerifyWorkers = runtime.GOMAXPROCS(0)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
