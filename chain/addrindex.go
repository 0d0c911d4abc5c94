package chain

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/ledger-node/ledger/chain/types"
)

// The address index lists, for every address, the main-chain transactions
// that name it: as the sender of a transfer, or as the recipient of a
// transfer or a coinbase. An entry is a key alone,
//
//	'X' || address (20) || height (4) || index in block (4)
//
// with an empty value: the position is all a query needs, and the
// transaction itself is read from the block body, which is stored anyway
// (an index of hashes would cost 32 more bytes per entry and still need
// the body to answer). Big-endian positions make LevelDB's order the
// chain's order, so an address's history newest first is one reverse
// range scan.
//
// A self-transfer (sender = recipient) has one entry, not two: the key is
// the same, and a history lists each transaction once.
//
// Entries are written in the batch that connects their block and deleted
// in the batch that disconnects it, so they always describe exactly the
// main chain of the tip marker. The key 'Y' (addrIndexReadyKey) records
// that they are complete, and up to which tip: addrIndexVersion || tip
// hash. It is written with the genesis block of a new store, rewritten
// with the new tip in every connect and disconnect batch (the batch that
// moves the tip marker 'S'), written after Open built the index of a store
// that ran without it, and deleted when a store is opened with
// Config.NoAddressIndex (which then drops the entries too, as they would
// go stale).
//
// Tying the marker to the tip catches a store whose tip moved without the
// index following: a binary that predates the index (it writes neither
// 'X' nor 'Y') connecting or reorganising blocks on the same data
// directory leaves 'Y' naming an older tip than 'S', and Open then builds
// the index again instead of serving a history with holes and stale
// entries.
//
// addrIndexVersion is the marker's first byte; another value, or a marker
// of another length (version 1 was that byte alone, not tied to a tip),
// reads as an incomplete index, to be built again.
const addrIndexVersion = 2

// addrIndexMarkerSize is the length of the 'Y' value.
const addrIndexMarkerSize = 1 + types.HashSize

// addrIndexMarker is the 'Y' value saying the index is complete up to tip.
func addrIndexMarker(tip types.Hash) []byte {
	v := make([]byte, addrIndexMarkerSize)
	v[0] = addrIndexVersion
	copy(v[1:], tip[:])
	return v
}

// addrIndexMarkerNames reports whether v, a stored 'Y' value, says the
// index is complete up to tip.
func addrIndexMarkerNames(v []byte, tip types.Hash) bool {
	return len(v) == addrIndexMarkerSize && v[0] == addrIndexVersion && types.Hash(v[1:]) == tip
}

const addrTxKeySize = 1 + types.AddressSize + 4 + 4

// MaxAddressTxs bounds the transactions one AddressTxs call returns.
const MaxAddressTxs = 500

// addressTxsReadBudget bounds the block bodies one AddressTxs call reads:
// once the bodies read reach it, the call stops at the next block and
// returns a short page with a cursor. Without it, a page of MaxAddressTxs
// entries in as many different blocks would read and decode up to 500
// blocks of up to a megabyte each, and a batch of calls a multiple of
// that. Each block is read once per call, however many of its
// transactions the page lists.
const addressTxsReadBudget = 16 << 20

func addrTxKey(a types.Address, height, index uint32) []byte {
	k := make([]byte, addrTxKeySize)
	k[0] = prefixAddrTx
	copy(k[1:], a[:])
	binary.BigEndian.PutUint32(k[1+types.AddressSize:], height)
	binary.BigEndian.PutUint32(k[1+types.AddressSize+4:], index)
	return k
}

// addrPrefix is the key prefix of a's entries.
func addrPrefix(a types.Address) []byte {
	k := make([]byte, 1+types.AddressSize)
	k[0] = prefixAddrTx
	copy(k[1:], a[:])
	return k
}

// indexAddresses adds to batch the address-index entries of blk at height,
// or their deletion with remove.
func indexAddresses(batch *leveldb.Batch, blk *types.Block, height uint32, remove bool) {
	op := batch.Put
	if remove {
		op = func(k, _ []byte) { batch.Delete(k) }
	}
	for i, tx := range blk.Txs {
		op(addrTxKey(tx.To, height, uint32(i)), nil)
		if !tx.IsCoinbase() {
			if from := tx.Sender(); from != tx.To {
				op(addrTxKey(from, height, uint32(i)), nil)
			}
		}
	}
}

// AddressCursor is a position in an address's history: AddressTxs resumes
// strictly below it (older transactions). Positions do not move when
// blocks are added, so paging on while the chain grows neither repeats nor
// skips a transaction; after a reorganisation below the cursor, the pages
// still to come show the new main chain.
type AddressCursor struct {
	Height uint32
	Index  uint32
}

// addressCursorSize is the length of a cursor's text: 16 hex digits.
const addressCursorSize = 2 * 8

// String is the cursor's text form: height and index as 16 lowercase hex
// digits. Clients treat it as opaque.
func (c AddressCursor) String() string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:], c.Height)
	binary.BigEndian.PutUint32(b[4:], c.Index)
	return hex.EncodeToString(b[:])
}

// ParseAddressCursor decodes a cursor's text form, which comes from
// clients: anything but exactly the form String makes is refused with
// ErrBadCursor.
func ParseAddressCursor(s string) (AddressCursor, error) {
	if len(s) != addressCursorSize {
		return AddressCursor{}, chainError(ErrBadCursor, "cursor of %d characters, want %d", len(s), addressCursorSize)
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return AddressCursor{}, chainError(ErrBadCursor, "cursor is not hex")
	}
	c := AddressCursor{Height: binary.BigEndian.Uint32(b[:]), Index: binary.BigEndian.Uint32(b[4:])}
	if c.String() != s {
		return AddressCursor{}, chainError(ErrBadCursor, "cursor is not in lowercase hex")
	}
	return c, nil
}

// AddressTx is one main-chain transaction of an address's history.
type AddressTx struct {
	Tx    *types.Tx
	TxID  types.Hash
	Block types.Hash
	// Height and Index are the transaction's position.
	Height uint32
	Index  uint32
	// Confirmations counts the block and those above it, at the tip the
	// answer was read at.
	Confirmations uint32
}

// Cursor is the position of tx, from which a query resumes below it.
func (tx *AddressTx) Cursor() AddressCursor { return AddressCursor{Height: tx.Height, Index: tx.Index} }

// AddressTxs returns up to limit (1..MaxAddressTxs) main-chain
// transactions that name addr as sender or recipient, newest first,
// starting below cursor (nil: from the tip). next is the cursor of the
// following page, nil when there is none. A page may be shorter than
// limit with next set: a call stops at a block boundary once it has read
// 16 MiB of block bodies (addressTxsReadBudget), so callers page on while
// next is not nil rather than until a page comes back short. Every page
// but the last holds at least one transaction. The answer is read from
// one snapshot, so it describes one tip even while blocks connect.
//
// Errors: ErrIndexUnavailable when the store runs with NoAddressIndex,
// ErrBadLimit for a limit out of range, ErrClosed, and ErrCorruptDB when
// an entry does not match the stored blocks.
func (c *Chain) AddressTxs(addr types.Address, limit int, cursor *AddressCursor) (txs []AddressTx, next *AddressCursor, err error) {
	return c.addressTxs(addr, limit, cursor, addressTxsReadBudget)
}

// addressTxs is AddressTxs with the bytes of block bodies a call may read
// before it stops at the next block (readBudget; tests make it small).
func (c *Chain) addressTxs(addr types.Address, limit int, cursor *AddressCursor, readBudget int) (txs []AddressTx, next *AddressCursor, err error) {
	if c.cfg.NoAddressIndex {
		return nil, nil, chainError(ErrIndexUnavailable, "the address index is off (the node runs without it)")
	}
	if limit < 1 || limit > MaxAddressTxs {
		return nil, nil, chainError(ErrBadLimit, "limit %d is not between 1 and %d", limit, MaxAddressTxs)
	}
	if c.isClosed() {
		return nil, nil, chainError(ErrClosed, "chain store is closed")
	}
	snap, err := c.db.GetSnapshot()
	if err != nil {
		return nil, nil, c.readErr(err)
	}
	defer snap.Release()
	v, err := snap.Get([]byte{prefixTip}, nil)
	if err != nil {
		return nil, nil, c.readErr(err)
	}
	tipHash, _, err := decodeTip(v)
	if err != nil {
		return nil, nil, err
	}
	tipHeader, err := c.snapshotTipHeader(snap, tipHash)
	if err != nil {
		return nil, nil, err
	}

	rng := util.BytesPrefix(addrPrefix(addr))
	if cursor != nil {
		rng.Limit = addrTxKey(addr, cursor.Height, cursor.Index)
	}
	// One more than asked tells whether another page follows.
	var positions []AddressCursor
	it := snap.NewIterator(rng, nil)
	for ok := it.Last(); ok && len(positions) <= limit; ok = it.Prev() {
		k := it.Key()
		if len(k) != addrTxKeySize || len(it.Value()) != 0 {
			it.Release()
			return nil, nil, corrupt("address index entry with key of %d and value of %d bytes", len(k), len(it.Value()))
		}
		positions = append(positions, AddressCursor{
			Height: binary.BigEndian.Uint32(k[1+types.AddressSize:]),
			Index:  binary.BigEndian.Uint32(k[1+types.AddressSize+4:]),
		})
	}
	it.Release()
	if err := it.Error(); err != nil {
		return nil, nil, c.readErr(err)
	}
	if len(positions) > limit {
		positions = positions[:limit]
		last := positions[limit-1]
		next = &last
	}

	// Positions come sorted by height, so the entries of one block are
	// consecutive: the block last read is all the cache a call needs to
	// read each block once.
	txs = make([]AddressTx, 0, len(positions))
	var (
		blk     *types.Block
		blkHash types.Hash
		read    int // bytes of block bodies read by this call
	)
	for _, p := range positions {
		if p.Height > tipHeader.Height {
			return nil, nil, corrupt("address index entry at height %d above the tip %d", p.Height, tipHeader.Height)
		}
		if blk == nil || blk.Header.Height != p.Height {
			if read >= readBudget && len(txs) > 0 {
				// A short page: the cursor resumes right below its last
				// transaction, so the next page starts with this block.
				last := txs[len(txs)-1].Cursor()
				return txs, &last, nil
			}
			var size int
			if blkHash, blk, size, err = c.snapshotBlockAt(snap, p.Height); err != nil {
				return nil, nil, err
			}
			read += size
		}
		if int(p.Index) >= len(blk.Txs) {
			return nil, nil, corrupt("address index entry %d:%d past the block's %d transactions", p.Height, p.Index, len(blk.Txs))
		}
		tx := blk.Txs[p.Index]
		if tx.To != addr && (tx.IsCoinbase() || tx.Sender() != addr) {
			return nil, nil, corrupt("address index entry %d:%d names a transaction of other addresses", p.Height, p.Index)
		}
		txs = append(txs, AddressTx{Tx: tx, TxID: tx.Hash(), Block: blkHash, Height: p.Height, Index: p.Index,
			Confirmations: tipHeader.Height - p.Height + 1})
	}
	return txs, next, nil
}

// snapshotTipHeader is the header of tip, the tip marker of snap. A block
// that extends the tip joins the in-memory index just after the batch that
// connects it is written, so a snapshot taken in between names a tip the
// index does not know yet: its header is then read from the snapshot's
// index record.
func (c *Chain) snapshotTipHeader(snap *leveldb.Snapshot, tip types.Hash) (types.Header, error) {
	if n := c.node(tip); n != nil {
		return n.header, nil
	}
	v, err := snap.Get(hashKey(prefixIndex, tip), nil)
	if err != nil {
		if errors.Is(err, leveldb.ErrNotFound) {
			return types.Header{}, corrupt("tip %s has no index record", tip)
		}
		return types.Header{}, c.readErr(err)
	}
	if len(v) != indexValueSize {
		return types.Header{}, corrupt("index record of the tip %s of %d bytes", tip, len(v))
	}
	h, err := types.DecodeHeader(v[:types.HeaderSize])
	if err != nil || h.Hash() != tip {
		return types.Header{}, corrupt("index record of the tip %s does not hold its header", tip)
	}
	return *h, nil
}

// snapshotBlockAt reads the main-chain block at height as of snap, with
// the size of its stored body.
func (c *Chain) snapshotBlockAt(snap *leveldb.Snapshot, height uint32) (types.Hash, *types.Block, int, error) {
	var hash types.Hash
	v, err := snap.Get(heightKey(height), nil)
	if err != nil {
		if errors.Is(err, leveldb.ErrNotFound) {
			return hash, nil, 0, corrupt("address index entry at height %d, which has no main-chain record", height)
		}
		return hash, nil, 0, c.readErr(err)
	}
	if len(v) != types.HashSize {
		return hash, nil, 0, corrupt("main-chain record at height %d of %d bytes", height, len(v))
	}
	copy(hash[:], v)
	raw, err := snap.Get(hashKey(prefixBlock, hash), nil)
	if err != nil {
		if errors.Is(err, leveldb.ErrNotFound) {
			return hash, nil, 0, corrupt("body of main-chain block %s is missing", hash)
		}
		return hash, nil, 0, c.readErr(err)
	}
	blk, err := types.DecodeBlock(raw)
	if err != nil {
		return hash, nil, 0, corrupt("body of block %s: %v", hash, err)
	}
	if blk.Header.Height != height {
		return hash, nil, 0, corrupt("main-chain record at height %d names block %s of height %d", height, hash, blk.Header.Height)
	}
	return hash, blk, len(raw), nil
}

// prepareAddressIndex makes the stored address index agree with
// Config.NoAddressIndex at open: dropped if not wanted; if wanted, kept
// only when its marker names the tip marker's block, built again
// otherwise (missing, of an older version, or naming another tip: the
// tip moved without the index). Called by load with processMu held,
// before anything changes the chain: from then on every connect and
// disconnect batch keeps the entries and the marker in step with the
// tip, so the marker must not be rewritten over an incomplete index.
func (c *Chain) prepareAddressIndex() error {
	if c.cfg.NoAddressIndex {
		return c.dropAddressIndex()
	}
	tip := c.tipNode().hash
	v, err := c.db.Get([]byte{addrIndexReadyKey}, nil)
	switch {
	case err == nil && addrIndexMarkerNames(v, tip):
		return nil
	case err != nil && !errors.Is(err, leveldb.ErrNotFound):
		return c.readErr(err)
	case err == nil:
		c.log.Warn("the address index does not describe the tip (the store ran without it, or with an older version): building it again",
			"tip", tip)
	}
	return c.buildAddressIndex()
}

// dropAddressIndex deletes the completeness marker, then every entry. A
// crash midway leaves entries without a marker, which the next open drops
// again or rebuilds over.
func (c *Chain) dropAddressIndex() error {
	batch := new(leveldb.Batch)
	batch.Delete([]byte{addrIndexReadyKey})
	if err := c.db.Write(batch, syncWrite); err != nil {
		return err
	}
	batch.Reset()
	dropped := 0
	it := c.db.NewIterator(util.BytesPrefix([]byte{prefixAddrTx}), nil)
	defer it.Release()
	for it.Next() {
		batch.Delete(append([]byte(nil), it.Key()...))
		dropped++
		if batch.Len() >= 10_000 {
			if err := c.db.Write(batch, nil); err != nil {
				return err
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return c.readErr(err)
	}
	if err := c.db.Write(batch, nil); err != nil {
		return err
	}
	if dropped > 0 {
		c.log.Info("address index dropped (the node runs without it)", "entries", dropped)
	}
	return nil
}

// buildAddressIndex indexes the whole main chain from the block bodies and
// then writes the completeness marker, synced. Until the marker is
// written, a crash leaves an incomplete index that the next open builds
// again from scratch.
func (c *Chain) buildAddressIndex() error {
	if err := c.dropAddressIndex(); err != nil {
		return err
	}
	tip := c.tipNode()
	c.log.Info("building the address index", "blocks", tip.height)
	start, last := time.Now(), time.Now()
	batch := new(leveldb.Batch)
	for h := uint32(1); h <= tip.height; h++ {
		blk, err := c.loadBlock(c.mainChain[h].hash)
		if err != nil {
			return err
		}
		indexAddresses(batch, blk, h, false)
		if batch.Len() >= 10_000 {
			if err := c.db.Write(batch, nil); err != nil {
				return err
			}
			batch.Reset()
		}
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			c.log.Info("building the address index", "block", h, "of", tip.height, "elapsed", time.Since(start).Round(time.Second))
		}
	}
	batch.Put([]byte{addrIndexReadyKey}, addrIndexMarker(tip.hash))
	if err := c.db.Write(batch, syncWrite); err != nil {
		return err
	}
	c.log.Info("address index built", "blocks", tip.height, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}
