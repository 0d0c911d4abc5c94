package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sort"

	"github.com/syndtr/goleveldb/leveldb"
	lderrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// load reads the block index and tip, checks them, and resumes an
// interrupted reorg. A new database is initialised with the genesis block.
func (c *Chain) load() error {
	g := c.cfg.Genesis
	v, err := c.db.Get([]byte{prefixGenesis}, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return c.initGenesis()
	}
	if err != nil {
		return c.readErr(err)
	}
	if len(v) != types.HashSize+4 {
		return corrupt("genesis record of %d bytes", len(v))
	}
	if !bytes.Equal(v[:types.HashSize], g.Hash[:]) {
		var stored types.Hash
		copy(stored[:], v)
		return chainError(ErrGenesisMismatch,
			"data directory %s belongs to the network with genesis %s, not %s (%s): use another data directory",
			c.cfg.Dir, stored, g.Hash, c.params.Name)
	}
	if ver := binary.BigEndian.Uint32(v[types.HashSize:]); ver != schemaVersion {
		return corrupt("schema version %d, this node reads %d", ver, schemaVersion)
	}
	if err := c.loadIndex(); err != nil {
		return err
	}
	if err := c.loadTip(); err != nil {
		return err
	}
	if !c.cfg.SkipStateCheck {
		if err := c.checkState(); err != nil {
			return err
		}
	}
	c.processMu.Lock()
	defer c.processMu.Unlock()
	// The address index first: the batches below rewrite its marker with
	// each new tip, which is right only over a complete index.
	if err := c.prepareAddressIndex(); err != nil {
		return err
	}
	// A crash in the middle of a reorg leaves the tip on the way to a
	// better chain, and one in the middle of InvalidateBlock on a block
	// marked invalid: finish the work.
	err = c.restoreBestValidChain()
	c.pending = nil
	return err
}

func (c *Chain) initGenesis() error {
	g := c.cfg.Genesis
	node := newBlockNode(&g.Block.Header, g.Hash, nil)
	node.status = statusValid
	batch := new(leveldb.Batch)
	gv := make([]byte, types.HashSize+4)
	copy(gv, g.Hash[:])
	binary.BigEndian.PutUint32(gv[types.HashSize:], schemaVersion)
	batch.Put([]byte{prefixGenesis}, gv)
	batch.Put(hashKey(prefixBlock, g.Hash), g.Block.Encode())
	batch.Put(hashKey(prefixIndex, g.Hash), encodeIndex(node))
	batch.Put(heightKey(0), g.Hash[:])
	for _, a := range g.Alloc {
		batch.Put(accountKey(a.Addr), encodeAccount(consensus.Account{Balance: a.Balance}))
	}
	batch.Put([]byte{prefixTip}, encodeTip(g.Hash, &g.Commitment))
	if !c.cfg.NoAddressIndex {
		// The genesis block has no transactions: the index of a new
		// store is complete, and stays so block by block.
		batch.Put([]byte{addrIndexReadyKey}, addrIndexMarker(g.Hash))
	}
	if err := c.db.Write(batch, syncWrite); err != nil {
		return err
	}
	c.addToIndex(node)
	c.mainChain = []*blockNode{node}
	c.commitment = g.Commitment
	return nil
}

func (c *Chain) loadIndex() error {
	type rec struct {
		hash   types.Hash
		header types.Header
		status blockStatus
	}
	var recs []rec
	it := c.db.NewIterator(util.BytesPrefix([]byte{prefixIndex}), nil)
	for it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 1+types.HashSize || len(v) != indexValueSize {
			it.Release()
			return corrupt("index record with key of %d and value of %d bytes", len(k), len(v))
		}
		var r rec
		copy(r.hash[:], k[1:])
		h, err := types.DecodeHeader(v[:types.HeaderSize])
		if err != nil {
			it.Release()
			return corrupt("index record %s: %v", r.hash, err)
		}
		if h.Hash() != r.hash {
			it.Release()
			return corrupt("index record %s holds the header of another block", r.hash)
		}
		r.header, r.status = *h, blockStatus(v[types.HeaderSize])&statusPersisted
		recs = append(recs, r)
	}
	it.Release()
	if err := it.Error(); err != nil {
		return c.readErr(err)
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].header.Height != recs[j].header.Height {
			return recs[i].header.Height < recs[j].header.Height
		}
		return bytes.Compare(recs[i].hash[:], recs[j].hash[:]) < 0
	})
	for _, r := range recs {
		var parent *blockNode
		if r.header.Height > 0 {
			parent = c.index[r.header.PrevBlock]
			if parent == nil || parent.height+1 != r.header.Height {
				return corrupt("block %s at height %d has no stored parent", r.hash, r.header.Height)
			}
		} else if r.hash != c.cfg.Genesis.Hash {
			return corrupt("second block at height 0: %s", r.hash)
		}
		n := newBlockNode(&r.header, r.hash, parent)
		n.status = r.status
		c.nextSeq++
		n.seq = c.nextSeq
		if parent != nil && parent.isInvalid() {
			n.status |= statusInvalidAncestor
		}
		c.addToIndex(n)
	}
	if c.index[c.cfg.Genesis.Hash] == nil {
		return corrupt("genesis block missing from the index")
	}
	return nil
}

func (c *Chain) loadTip() error {
	v, err := c.db.Get([]byte{prefixTip}, nil)
	if err != nil {
		if errors.Is(err, leveldb.ErrNotFound) {
			return corrupt("tip record missing")
		}
		return c.readErr(err)
	}
	tipHash, commitment, err := decodeTip(v)
	if err != nil {
		return err
	}
	tip := c.index[tipHash]
	if tip == nil {
		return corrupt("tip %s is not in the block index", tipHash)
	}
	if root := types.Hash(commitment.Sum()); root != tip.header.StateRoot {
		return corrupt("state commitment %s does not match the tip's state root %s", root, tip.header.StateRoot)
	}
	main := make([]*blockNode, tip.height+1)
	for n := tip; n != nil; n = n.parent {
		main[n.height] = n
	}
	for _, h := range []uint32{0, tip.height} {
		v, err := c.db.Get(heightKey(h), nil)
		if err != nil || !bytes.Equal(v, main[h].hash[:]) {
			return corrupt("main-chain record at height %d does not name block %s", h, main[h].hash)
		}
	}
	if _, err := c.db.Get(heightKey(tip.height+1), nil); err == nil {
		return corrupt("main-chain record above the tip at height %d", tip.height+1)
	}
	c.mainChain = main
	c.commitment = commitment
	return nil
}

// checkState re-hashes every stored account and compares the result with
// the tip's commitment, so state that disagrees with its tip is found at
// start-up, not when a block later fails to connect.
func (c *Chain) checkState() error {
	// Leaves are summed in chunks, on all cores, so memory stays flat
	// however many accounts there are.
	const chunk = 4096
	var (
		sum    lthash.Hash
		leaves = make([][]byte, 0, chunk)
		count  int
	)
	flush := func() {
		part := lthash.AddAll(leaves, c.cfg.VerifyWorkers)
		sum.Combine(&part)
		count += len(leaves)
		leaves = leaves[:0]
	}
	it := c.db.NewIterator(util.BytesPrefix([]byte{prefixAccount}), nil)
	for it.Next() {
		k := it.Key()
		if len(k) != 1+types.AddressSize {
			it.Release()
			return corrupt("account key of %d bytes", len(k))
		}
		acct, err := decodeAccount(it.Value())
		if err != nil {
			it.Release()
			return err
		}
		var addr types.Address
		copy(addr[:], k[1:])
		leaves = append(leaves, consensus.AccountLeaf(addr, acct))
		if len(leaves) == chunk {
			flush()
		}
	}
	it.Release()
	if err := it.Error(); err != nil {
		return c.readErr(err)
	}
	flush()
	if !sum.Equal(&c.commitment) {
		return corrupt("the %d stored accounts do not match the tip's state commitment", count)
	}
	return nil
}

// readErr classifies a LevelDB read failure.
func (c *Chain) readErr(err error) error {
	if lderrors.IsCorrupted(err) {
		return corrupt("%v", err)
	}
	return err
}
