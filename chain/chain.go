package chain

import (
	"errors"
	"log/slog"
	"math/big"
	"runtime"
	"sync"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	lderrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// syncWrite makes a batch durable before Write returns: every batch that
// moves the tip is written with it.
var syncWrite = &opt.WriteOptions{Sync: true}

// DefaultMaxForkDeficit: a side branch may trail the tip by up to this
// many blocks' worth of work (a day at a 1-minute spacing) and still be
// stored from gossip; deeper forks come only through sync.
const DefaultMaxForkDeficit = 1440

// Config holds the store's dependencies.
type Config struct {
	// Dir is the LevelDB directory; created if missing.
	Dir string
	// Genesis is the network. A database created for another genesis is
	// refused with ErrGenesisMismatch.
	Genesis *genesis.Genesis
	// Clock returns local time for the future-drift rule; time.Now if nil.
	Clock func() time.Time
	// SigCache remembers verified signatures; the mempool fills it. A
	// cache of DefaultSigCacheSize entries is made if nil.
	SigCache consensus.SigCache
	// VerifyWorkers is how many goroutines verify a block's signatures;
	// GOMAXPROCS if zero.
	VerifyWorkers int
	// Orphans bounds the pool of blocks whose parent is unknown; the
	// defaults apply to zero fields.
	Orphans OrphanLimits
	// MaxForkDeficit is how far behind the tip, in blocks of the tip's
	// difficulty, a side branch's work may be for ProcessBlock to store
	// its blocks; DefaultMaxForkDeficit if zero.
	MaxForkDeficit int
	// SkipStateCheck skips re-hashing every account on open (the check
	// that the stored state matches the tip's commitment). It costs about
	// a microsecond per account.
	SkipStateCheck bool
	// NoAddressIndex turns the address index (AddressTxs) off, saving two
	// 29-byte keys per transfer in each block's batch (about 22 bytes per
	// transaction once LevelDB has compacted them). A store opened with it
	// drops an existing index; opened without it again, the store builds
	// the index from the main chain's bodies before Open returns.
	NoAddressIndex bool
	// Logger receives progress and warnings; slog.Default() if nil.
	Logger *slog.Logger
	// CacheMiB and Handles size LevelDB's block cache and open files;
	// LevelDB's defaults if zero.
	CacheMiB int
	Handles  int
	// Observer, if not nil, hears the outcome of every ProcessBlock and
	// ProcessRequestedBlock call (see Observer).
	Observer Observer
}

// Chain is the block store, block index, account state and fork choice of
// one network, in one LevelDB database.
//
// Concurrency: processMu serialises every operation that changes the chain
// (ProcessBlock, InvalidateBlock, ReconsiderBlock) and the delivery of
// their notifications; mu guards the in-memory index, node status, the tip
// and its commitment, and is held only briefly, so readers are never
// blocked by signature verification or disk writes.
type Chain struct {
	cfg    Config
	params *consensus.Params
	db     *leveldb.DB
	log    *slog.Logger
	clock  func() time.Time
	sigs   consensus.SigCache

	processMu sync.Mutex
	// orphans has its own lock.
	orphans *orphanPool
	// nextSeq numbers stored blocks; guarded by processMu.
	nextSeq uint64
	// invalid remembers refused blocks that were never stored; it has its
	// own lock.
	invalid *invalidSet
	// pending holds notifications of the running operation; guarded by
	// processMu.
	pending []Notification

	mu sync.RWMutex
	// index maps every stored block to its node; guarded by mu.
	index map[types.Hash]*blockNode
	// mainChain[h] is the main-chain node at height h. Written with both
	// processMu and mu held, so the holder of processMu may read it alone.
	mainChain []*blockNode
	// commitment is the state commitment at the tip; guarded by mu.
	commitment lthash.Hash
	// closed is set by Close; guarded by mu.
	closed bool
	// broken is the storage failure after which changes are refused;
	// guarded by mu.
	broken error

	// writeFault, set only by tests, fails the next state write when it
	// returns an error: storage failures cannot be provoked otherwise.
	writeFault func() error

	subMu sync.Mutex
	// subscribers is guarded by subMu.
	subscribers []func(Notification)
}

// Open opens or creates the store for cfg.Genesis. On open it checks that
// the tip record, the main chain and the state agree, and resumes a reorg
// that a crash interrupted.
func Open(cfg Config) (*Chain, error) {
	if cfg.Genesis == nil {
		return nil, errors.New("chain: Config.Genesis is required")
	}
	c := &Chain{
		cfg:     cfg,
		params:  cfg.Genesis.Params,
		log:     cfg.Logger,
		clock:   cfg.Clock,
		sigs:    cfg.SigCache,
		index:   make(map[types.Hash]*blockNode),
		invalid: newInvalidSet(),
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.sigs == nil {
		c.sigs = NewSigCache(DefaultSigCacheSize)
	}
	if c.cfg.MaxForkDeficit <= 0 {
		c.cfg.MaxForkDeficit = DefaultMaxForkDeficit
	}
	if c.cfg.VerifyWorkers <= 0 {
		c.cfg.VerifyWorkers = runtime.GOMAXPROCS(0)
	}
	c.orphans = newOrphanPool(cfg.Orphans.withDefaults())
	o := &opt.Options{}
	if cfg.CacheMiB > 0 {
		o.BlockCacheCapacity = cfg.CacheMiB << 20
	}
	if cfg.Handles > 0 {
		o.OpenFilesCacheCapacity = cfg.Handles
	}
	db, err := leveldb.OpenFile(cfg.Dir, o)
	if err != nil {
		if lderrors.IsCorrupted(err) {
			return nil, corrupt("opening %s: %v", cfg.Dir, err)
		}
		return nil, err
	}
	c.db = db
	if err := c.load(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

// Close waits for the running operation and closes the database. Later
// calls fail with ErrClosed.
func (c *Chain) Close() error {
	c.processMu.Lock()
	defer c.processMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	return c.db.Close()
}

// Params returns the network's consensus parameters.
func (c *Chain) Params() *consensus.Params { return c.params }

// GenesisHash returns the network's identity.
func (c *Chain) GenesisHash() types.Hash { return c.cfg.Genesis.Hash }

// SigCache returns the signature cache blocks are checked against, for the
// mempool to fill.
func (c *Chain) SigCache() consensus.SigCache { return c.sigs }

// Tip describes the best block.
type Tip struct {
	Hash      types.Hash
	Height    uint32
	Header    types.Header
	TotalWork *big.Int
	// MedianTimePast is the median time of the tip and its 10 ancestors:
	// the next block's time must be after it.
	MedianTimePast uint64
	// StateRoot is the commitment to the state at the tip.
	StateRoot types.Hash
}

// Tip returns the best block.
func (c *Chain) Tip() Tip {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.mainChain[len(c.mainChain)-1]
	return Tip{
		Hash:           n.hash,
		Height:         n.height,
		Header:         n.header,
		TotalWork:      new(big.Int).Set(n.work),
		MedianTimePast: n.MedianTimePast(),
		StateRoot:      c.commitment.Sum(),
	}
}

// NextRequiredBits is the bits the next block on the tip must carry.
func (c *Chain) NextRequiredBits() uint32 {
	c.mu.RLock()
	n := c.tipNode()
	c.mu.RUnlock()
	return consensus.NextRequiredBits(c.params, n.anchorTime, n.height, n.header.Time)
}

// NextRequiredBitsAfter is the bits a child of the stored block must carry.
func (c *Chain) NextRequiredBitsAfter(parent types.Hash) (uint32, error) {
	n := c.node(parent)
	if n == nil {
		return 0, chainError(ErrUnknownBlock, "unknown block %s", parent)
	}
	return consensus.NextRequiredBits(c.params, n.anchorTime, n.height, n.header.Time), nil
}

// Commitment returns a copy of the tip's state commitment, from which a
// block producer computes the state root of a new block.
func (c *Chain) Commitment() (types.Hash, lthash.Hash) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mainChain[len(c.mainChain)-1].hash, c.commitment
}

func (c *Chain) tipNode() *blockNode { return c.mainChain[len(c.mainChain)-1] }

// node returns the index node of hash, or nil.
func (c *Chain) node(hash types.Hash) *blockNode {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.index[hash]
}

// fail records a storage failure met in the middle of a change: from then
// on every change is refused with ErrStorage until the store is reopened,
// because memory may no longer match the disk (as Bitcoin Core aborts the
// node). Rule errors are not storage failures and pass through.
func (c *Chain) fail(err error) error {
	if err == nil {
		return nil
	}
	c.mu.Lock()
	first := c.broken == nil
	if first {
		c.broken = err
	}
	c.mu.Unlock()
	if first {
		c.log.Error("storage failure: the chain store refuses changes until restarted", "err", err)
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err // already typed (ErrCorruptDB, ErrStorage)
	}
	return &Error{Kind: ErrStorage, Description: "storage failure: " + err.Error() + " (restart the node; the database is at its last complete block)"}
}

// checkUsable refuses a change on a closed or broken store.
func (c *Chain) checkUsable() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return chainError(ErrClosed, "chain store is closed")
	}
	if c.broken != nil {
		return &Error{Kind: ErrStorage, Description: "storage failed earlier: " + c.broken.Error() + " (restart the node)"}
	}
	return nil
}

// writeState writes a batch that moves the tip.
func (c *Chain) writeState(batch *leveldb.Batch) error {
	if c.writeFault != nil {
		if err := c.writeFault(); err != nil {
			return err
		}
	}
	return c.db.Write(batch, syncWrite)
}
