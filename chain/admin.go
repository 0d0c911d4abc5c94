package chain

import (
	"errors"
	"sort"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/ledger-node/ledger/chain/types"
)

// InvalidateBlock marks a block and its descendants invalid, as if it had
// failed validation, and moves the tip to the best chain without it. It is
// an operator's tool: undo with ReconsiderBlock.
func (c *Chain) InvalidateBlock(hash types.Hash) error {
	c.processMu.Lock()
	defer c.processMu.Unlock()
	if err := c.checkUsable(); err != nil {
		return err
	}
	defer c.deliverNotifications(c.tipNode())
	n := c.node(hash)
	if n == nil {
		return chainError(ErrUnknownBlock, "unknown block %s", hash)
	}
	if n.parent == nil {
		return chainError(ErrInvalidateGenesis, "the genesis block cannot be invalidated")
	}
	if err := c.markInvalid(n); err != nil {
		return c.fail(err)
	}
	return c.restoreBestValidChain()
}

// ReconsiderBlock clears the invalid marks of a block, its ancestors and
// its descendants, and activates the best chain, which validates them
// again.
func (c *Chain) ReconsiderBlock(hash types.Hash) error {
	c.processMu.Lock()
	defer c.processMu.Unlock()
	if err := c.checkUsable(); err != nil {
		return err
	}
	defer c.deliverNotifications(c.tipNode())
	n := c.node(hash)
	if n == nil {
		return chainError(ErrUnknownBlock, "unknown block %s", hash)
	}
	// Unstored blocks refused as descendants of the reconsidered block
	// may be valid now; the remembered set cannot tell which, so it is
	// forgotten whole (it only saves repeated checks).
	c.invalid.clear()
	// Its descendants and its ancestors are cleared (as Bitcoin Core's
	// reconsiderblock does); then no block above n's line is marked, so
	// no invalid-ancestor mark needs recomputing.
	batch := new(leveldb.Batch)
	clear := func(m *blockNode) {
		if m.status&statusAnyInvalid != 0 {
			m.status &^= statusAnyInvalid
			batch.Put(hashKey(prefixIndex, m.hash), encodeIndex(m))
		}
	}
	c.mu.Lock()
	walkSubtree(n, clear)
	for a := n.parent; a != nil; a = a.parent {
		clear(a)
	}
	c.mu.Unlock()
	if err := c.db.Write(batch, syncWrite); err != nil {
		return c.fail(err)
	}
	return c.activateBestChain(c.bestCandidate(), nil)
}

// Reindex rebuilds the block index, the main chain, the transaction index
// and the account state from the block bodies stored in cfg.Dir,
// validating every block again, and returns the opened store. Bodies that
// no longer decode are dropped with a warning. It is the recovery for
// ErrCorruptDB when the bodies survive.
func Reindex(cfg Config) (*Chain, error) {
	if cfg.Genesis == nil {
		return nil, errors.New("chain: Config.Genesis is required")
	}
	db, err := leveldb.OpenFile(cfg.Dir, nil)
	if err != nil {
		return nil, err
	}
	// Never turn a database of one network into another's.
	if v, err := db.Get([]byte{prefixGenesis}, nil); err == nil && (len(v) < types.HashSize || types.Hash(v[:types.HashSize]) != cfg.Genesis.Hash) {
		db.Close()
		return nil, chainError(ErrGenesisMismatch, "data directory %s belongs to another network than %s (%s): not reindexing",
			cfg.Dir, cfg.Genesis.Hash, cfg.Genesis.Params.Name)
	}
	type ref struct {
		height uint32
		hash   types.Hash
	}
	var refs []ref
	batch := new(leveldb.Batch)
	it := db.NewIterator(nil, nil)
	for it.Next() {
		k := it.Key()
		if len(k) == 1+types.HashSize && k[0] == prefixBlock {
			v := it.Value()
			if h, err := types.DecodeHeader(safeHeader(v)); err == nil && h.Hash() == types.Hash(k[1:]) {
				refs = append(refs, ref{h.Height, types.Hash(k[1:])})
				continue
			}
		}
		batch.Delete(append([]byte(nil), k...))
		if batch.Len() >= 10_000 {
			if err := db.Write(batch, nil); err != nil {
				it.Release()
				db.Close()
				return nil, err
			}
			batch.Reset()
		}
	}
	it.Release()
	if err := it.Error(); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Write(batch, syncWrite); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	c, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].height < refs[j].height })
	start, last := time.Now(), time.Now()
	for i, r := range refs {
		if r.height == 0 {
			continue
		}
		raw, err := c.db.Get(hashKey(prefixBlock, r.hash), nil)
		if err != nil {
			c.Close()
			return nil, err
		}
		blk, err := types.DecodeBlock(raw)
		if err != nil {
			c.log.Warn("reindex: dropping undecodable block", "hash", r.hash, "err", err)
			continue
		}
		// Every stored block was accepted once: the fork-deficit rule,
		// which guards against strangers' blocks, does not apply.
		if _, err := c.ProcessRequestedBlock(blk); err != nil {
			c.log.Warn("reindex: block refused", "hash", r.hash, "height", r.height, "err", err)
		}
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			c.log.Info("reindexing", "block", i+1, "of", len(refs), "elapsed", time.Since(start).Round(time.Second))
		}
	}
	c.log.Info("reindex done", "blocks", len(refs), "height", c.Tip().Height, "elapsed", time.Since(start).Round(time.Millisecond))
	return c, nil
}

func safeHeader(v []byte) []byte {
	if len(v) < types.HeaderSize {
		return v
	}
	return v[:types.HeaderSize]
}
