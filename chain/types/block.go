package types

import "encoding/binary"

// Block is a header and its transactions; the first is the coinbase.
type Block struct {
	Header Header
	Txs    []*Tx
}

// Hash is the block id, the hash of its header.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// EncodedSize is the length of the canonical encoding.
func (b *Block) EncodedSize() int {
	n := HeaderSize + 4
	for _, tx := range b.Txs {
		n += tx.EncodedSize()
	}
	return n
}

// Encode returns the canonical encoding: header, transaction count (4
// bytes), then each transaction.
func (b *Block) Encode() []byte {
	out := make([]byte, HeaderSize, b.EncodedSize())
	b.Header.Put((*[HeaderSize]byte)(out))
	out = binary.BigEndian.AppendUint32(out, uint32(len(b.Txs)))
	for _, tx := range b.Txs {
		out = tx.AppendEncode(out)
	}
	return out
}

// TxHashes returns the id of every transaction, in order.
func (b *Block) TxHashes() []Hash {
	ids := make([]Hash, len(b.Txs))
	for i, tx := range b.Txs {
		ids[i] = tx.Hash()
	}
	return ids
}

// DecodeBlock decodes exactly one block. The transaction count is checked
// against the bytes that remain (every transaction takes at least MinTxSize)
// before the list is allocated; the caller bounds the input size itself.
func DecodeBlock(data []byte) (*Block, error) {
	if len(data) < HeaderSize {
		return nil, errorf(ErrShortInput, "block: need %d header bytes, got %d", HeaderSize, len(data))
	}
	blk := new(Block)
	decodeHeaderInto(&blk.Header, (*[HeaderSize]byte)(data))
	r := reader{buf: data[HeaderSize:]}
	count := r.u32("block tx count")
	if r.err != nil {
		return nil, r.err
	}
	if uint64(count)*MinTxSize > uint64(len(r.buf)) {
		return nil, errorf(ErrOverLimit, "block announces %d transactions but only %d bytes follow", count, len(r.buf))
	}
	blk.Txs = make([]*Tx, count)
	for i := range blk.Txs {
		tx, err := decodeTx(&r)
		if err != nil {
			return nil, err
		}
		blk.Txs[i] = tx
	}
	if err := r.finish("block"); err != nil {
		return nil, err
	}
	return blk, nil
}
