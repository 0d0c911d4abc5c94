package mempool

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"os"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/atomicfile"
)

// Pool file format (all integers big-endian):
//
//	magic    8 bytes  "LDGRPOOL"
//	version  2 bytes  1
//	genesis 32 bytes  the network's genesis hash
//	count    4 bytes  number of transactions
//	payload  8 bytes  length of the records that follow
//	records           count times: length (4 bytes), canonical tx encoding
//	checksum 32 bytes SHA-256 of everything before it
//
// The header is checked against the file's size before anything is
// allocated, each length against the transaction size limits, and the
// checksum catches a torn or bit-flipped file. A sender's transactions are
// written in nonce order, so loading re-admits them in order.
const (
	fileMagic      = "LDGRPOOL"
	fileVersion    = 1
	fileHeaderSize = 8 + 2 + types.HashSize + 4 + 8
	fileSumSize    = sha256.Size
	recordOverhead = 4
	// MaxFileTxs bounds the transactions a pool file may hold.
	MaxFileTxs = 1 << 20
	// MaxFileSize bounds a pool file.
	MaxFileSize = fileHeaderSize + MaxFileTxs*(recordOverhead+types.MaxTxSize) + fileSumSize
)

// EncodeFile returns the pool file holding txs for the network genesis.
func EncodeFile(genesis types.Hash, txs []*types.Tx) []byte {
	payload := 0
	for _, tx := range txs {
		payload += recordOverhead + tx.EncodedSize()
	}
	out := make([]byte, 0, fileHeaderSize+payload+fileSumSize)
	out = append(out, fileMagic...)
	out = binary.BigEndian.AppendUint16(out, fileVersion)
	out = append(out, genesis[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(txs)))
	out = binary.BigEndian.AppendUint64(out, uint64(payload))
	for _, tx := range txs {
		out = binary.BigEndian.AppendUint32(out, uint32(tx.EncodedSize()))
		out = tx.AppendEncode(out)
	}
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// DecodeFile parses a pool file. Every failure is a *PolicyError of kind
// ErrBadPoolFile; it never panics, whatever the input.
func DecodeFile(data []byte) (genesis types.Hash, txs []*types.Tx, err error) {
	bad := func(format string, args ...any) (types.Hash, []*types.Tx, error) {
		return types.Hash{}, nil, policyError(ErrBadPoolFile, "pool file: "+format, args...)
	}
	if len(data) < fileHeaderSize+fileSumSize {
		return bad("%d bytes, shorter than header and checksum", len(data))
	}
	if string(data[:8]) != fileMagic {
		return bad("not a pool file (bad magic)")
	}
	if v := binary.BigEndian.Uint16(data[8:]); v != fileVersion {
		return bad("version %d, this node reads %d", v, fileVersion)
	}
	copy(genesis[:], data[10:10+types.HashSize])
	count := binary.BigEndian.Uint32(data[42:])
	payload := binary.BigEndian.Uint64(data[46:])
	body := data[fileHeaderSize : len(data)-fileSumSize]
	if payload != uint64(len(body)) {
		return bad("header announces %d payload bytes, file holds %d", payload, len(body))
	}
	if count > MaxFileTxs || uint64(count)*(recordOverhead+types.MinTxSize) > payload {
		return bad("header announces %d transactions in %d bytes", count, payload)
	}
	sum := sha256.Sum256(data[:len(data)-fileSumSize])
	if !bytes.Equal(sum[:], data[len(data)-fileSumSize:]) {
		return bad("checksum mismatch (torn or corrupted file)")
	}
	txs = make([]*types.Tx, 0, count)
	for i := uint32(0); i < count; i++ {
		if len(body) < recordOverhead {
			return bad("record %d: truncated length", i)
		}
		n := binary.BigEndian.Uint32(body)
		body = body[recordOverhead:]
		if n < types.MinTxSize || n > types.MaxTxSize || uint64(n) > uint64(len(body)) {
			return bad("record %d: length %d out of range or beyond the payload", i, n)
		}
		tx, err := types.DecodeTx(body[:n])
		if err != nil {
			return bad("record %d: %v", i, err)
		}
		txs = append(txs, tx)
		body = body[n:]
	}
	if len(body) != 0 {
		return bad("%d bytes after the last record", len(body))
	}
	return genesis, txs, nil
}

// Save writes every transaction in the pool to path, atomically (a
// temporary file renamed over path), for Load at the next start.
func (p *Pool) Save(path string) error {
	p.mu.Lock()
	var txs []*types.Tx
	for _, s := range p.senders {
		for _, e := range s.txs {
			txs = append(txs, e.tx)
		}
	}
	p.mu.Unlock()
	return atomicfile.WriteFile(path, EncodeFile(p.chain.GenesisHash(), txs), 0o600)
}

// Load reads a pool file written by Save and offers its transactions to
// the pool through normal admission (signatures verified in parallel,
// after the cheap checks). It returns how many were accepted; refusals
// (transactions mined or made invalid meanwhile) are not errors. A missing
// file is not an error either. A malformed file is ErrBadPoolFile, one
// from another network ErrPoolFileNetwork.
//
// Save never writes more than the pool holds, so a file larger than this
// pool's MaxBytes and MaxCount allow is refused (ErrBadPoolFile) before
// it is read: reading, hashing and verifying it would cost up to
// MaxFileSize for transactions the pool would evict at once.
func (p *Pool) Load(path string) (accepted int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	limit := p.maxFileSize()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() > limit {
		return 0, policyError(ErrBadPoolFile, "pool file of %d bytes is larger than this pool can hold (%d)", fi.Size(), limit)
	}
	// The limit again while reading: the file may have grown since.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return 0, err
	}
	if int64(len(data)) > limit {
		return 0, policyError(ErrBadPoolFile, "pool file larger than this pool can hold (%d bytes)", limit)
	}
	genesis, txs, err := DecodeFile(data)
	if err != nil {
		return 0, err
	}
	if want := p.chain.GenesisHash(); genesis != want {
		return 0, policyError(ErrPoolFileNetwork, "pool file is for network %s, this node serves %s", genesis, want)
	}
	for _, err := range p.AddBatch(txs) {
		if err == nil {
			accepted++
		}
	}
	p.log.Info("mempool: loaded saved transactions", "file", path, "saved", len(txs), "accepted", accepted)
	return accepted, nil
}

// maxFileSize is the largest file Save can write for this pool: MaxCount
// records holding MaxBytes of transactions in all.
func (p *Pool) maxFileSize() int64 {
	n := int64(fileHeaderSize) + int64(p.cfg.MaxBytes) + int64(p.cfg.MaxCount)*recordOverhead + fileSumSize
	return min(n, MaxFileSize)
}
