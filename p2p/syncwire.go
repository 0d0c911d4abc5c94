package p2p

import (
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/ledger-node/ledger/chain/types"
)

// Sync wire format. Two request/response protocols, one request per
// stream, every message a varint-length-prefixed frame (writeFrame) whose
// length is checked against the message's maximum before its body is read:
//
//	headers protocol:  -> getHeaders   <- headersMsg
//	blocks protocol:   -> getBlocks    <- one block frame per requested hash,
//	                                      in request order
//
// All integers are big-endian. The encodings are canonical: a decoder
// accepts exactly the bytes its encoder produces, and checks every count
// against its limit, and against the bytes present, before allocating.
//
//	getHeaders  = count u16 (<= maxLocatorHashes) | count x hash | stop hash | max u16 (1..maxHeadersPerRequest)
//	headersMsg  = count u16 (<= the request's max) | count x header (types.HeaderSize bytes each)
//	getBlocks   = count u16 (1..maxBlocksPerRequest) | count x hash
//	block frame = 0x00 | block (types encoding, <= Params.MaxBlockSize bytes)
//	            | 0x01 | hash   ("not found": the server does not hold this
//	                             block; nothing follows it)
//
// A blocks response ends after the last requested block, after a "not
// found" frame, or early (a clean end of stream at a frame boundary) once
// the server has sent maxBlocksResponseBytes; the client asks again for
// what is missing.
const (
	// maxLocatorHashes bounds a locator. Chain.Locator returns about
	// 10 + log2(height) hashes: 64 covers any chain.
	maxLocatorHashes = 64
	// maxHeadersPerRequest bounds one headers response: 2,000 headers of
	// 118 bytes, about 230 KiB.
	maxHeadersPerRequest = 2000
	// maxBlocksPerRequest bounds the hashes of one blocks request.
	maxBlocksPerRequest = 128
	// maxBlocksResponseBytes bounds the block bytes one response carries
	// (plus at most one more block: the server stops once it has sent
	// this much).
	maxBlocksResponseBytes = 16 << 20

	maxGetHeadersSize = 2 + maxLocatorHashes*types.HashSize + types.HashSize + 2
	maxGetBlocksSize  = 2 + maxBlocksPerRequest*types.HashSize

	blockFrameBlock    = 0x00
	blockFrameNotFound = 0x01
	notFoundFrameSize  = 1 + types.HashSize
)

// headersMsgSize is the largest headers response to a request for max.
func headersMsgSize(max int) int { return 2 + max*types.HeaderSize }

// blockFrameMax is the largest block frame of a network.
func blockFrameMax(maxBlockSize uint32) int { return 1 + int(maxBlockSize) }

// getHeaders asks for the headers of the peer's main chain after the first
// locator hash it has on its main chain (genesis if none), up to Max
// headers or up to and including Stop.
type getHeaders struct {
	Locator []types.Hash
	Stop    types.Hash
	Max     uint16
}

func (m *getHeaders) encode() []byte {
	b := make([]byte, 0, 2+len(m.Locator)*types.HashSize+types.HashSize+2)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Locator)))
	for _, h := range m.Locator {
		b = append(b, h[:]...)
	}
	b = append(b, m.Stop[:]...)
	return binary.BigEndian.AppendUint16(b, m.Max)
}

func decodeGetHeaders(b []byte) (*getHeaders, error) {
	if len(b) < 2 {
		return nil, protocolError(ErrMalformed, "getheaders of %d bytes", len(b))
	}
	count := int(binary.BigEndian.Uint16(b))
	if count > maxLocatorHashes {
		return nil, protocolError(ErrProtocol, "getheaders with %d locator hashes, at most %d", count, maxLocatorHashes)
	}
	if want := 2 + count*types.HashSize + types.HashSize + 2; len(b) != want {
		return nil, protocolError(ErrMalformed, "getheaders with %d locator hashes is %d bytes, want %d", count, len(b), want)
	}
	m := &getHeaders{}
	if count > 0 {
		m.Locator = make([]types.Hash, count)
	}
	off := 2
	for i := range m.Locator {
		copy(m.Locator[i][:], b[off:])
		off += types.HashSize
	}
	copy(m.Stop[:], b[off:])
	m.Max = binary.BigEndian.Uint16(b[off+types.HashSize:])
	if m.Max == 0 || m.Max > maxHeadersPerRequest {
		return nil, protocolError(ErrProtocol, "getheaders asks for %d headers, 1 to %d allowed", m.Max, maxHeadersPerRequest)
	}
	return m, nil
}

func encodeHeaders(hdrs []types.Header) []byte {
	b := make([]byte, 2, headersMsgSize(len(hdrs)))
	binary.BigEndian.PutUint16(b, uint16(len(hdrs)))
	var buf [types.HeaderSize]byte
	for i := range hdrs {
		hdrs[i].Put(&buf)
		b = append(b, buf[:]...)
	}
	return b
}

// decodeHeaders decodes a headers response to a request for at most max.
func decodeHeaders(b []byte, max int) ([]types.Header, error) {
	if len(b) < 2 {
		return nil, protocolError(ErrMalformed, "headers message of %d bytes", len(b))
	}
	count := int(binary.BigEndian.Uint16(b))
	if count > max {
		return nil, protocolError(ErrProtocol, "%d headers sent, at most %d asked for", count, max)
	}
	if want := headersMsgSize(count); len(b) != want {
		return nil, protocolError(ErrMalformed, "headers message with %d headers is %d bytes, want %d", count, len(b), want)
	}
	hdrs := make([]types.Header, count)
	for i := range hdrs {
		h, err := types.DecodeHeader(b[2+i*types.HeaderSize : 2+(i+1)*types.HeaderSize])
		if err != nil {
			return nil, protocolError(ErrMalformed, "header %d: %v", i, err)
		}
		hdrs[i] = *h
	}
	return hdrs, nil
}

// getBlocks asks for blocks by hash.
type getBlocks struct {
	Hashes []types.Hash
}

func (m *getBlocks) encode() []byte {
	b := make([]byte, 0, 2+len(m.Hashes)*types.HashSize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Hashes)))
	for _, h := range m.Hashes {
		b = append(b, h[:]...)
	}
	return b
}

func decodeGetBlocks(b []byte) (*getBlocks, error) {
	if len(b) < 2 {
		return nil, protocolError(ErrMalformed, "getblocks of %d bytes", len(b))
	}
	count := int(binary.BigEndian.Uint16(b))
	if count == 0 || count > maxBlocksPerRequest {
		return nil, protocolError(ErrProtocol, "getblocks for %d blocks, 1 to %d allowed", count, maxBlocksPerRequest)
	}
	if want := 2 + count*types.HashSize; len(b) != want {
		return nil, protocolError(ErrMalformed, "getblocks for %d blocks is %d bytes, want %d", count, len(b), want)
	}
	m := &getBlocks{Hashes: make([]types.Hash, count)}
	for i := range m.Hashes {
		copy(m.Hashes[i][:], b[2+i*types.HashSize:])
	}
	return m, nil
}

// blockFrame is one frame of a blocks response: a block, or "not found"
// for Hash.
type blockFrame struct {
	Block    *types.Block
	NotFound bool
	Hash     types.Hash // the missing block, when NotFound
}

func encodeBlockFrame(blk *types.Block) []byte {
	enc := blk.Encode()
	b := make([]byte, 1, 1+len(enc))
	b[0] = blockFrameBlock
	return append(b, enc...)
}

func encodeNotFoundFrame(h types.Hash) []byte {
	b := make([]byte, 1, notFoundFrameSize)
	b[0] = blockFrameNotFound
	return append(b, h[:]...)
}

// decodeBlockFrame decodes a block frame whose block may be at most
// maxBlockSize bytes.
func decodeBlockFrame(b []byte, maxBlockSize uint32) (*blockFrame, error) {
	if len(b) == 0 {
		return nil, protocolError(ErrMalformed, "empty block frame")
	}
	switch b[0] {
	case blockFrameBlock:
		if uint64(len(b)-1) > uint64(maxBlockSize) {
			return nil, protocolError(ErrFrameTooLarge, "block of %d bytes, at most %d", len(b)-1, maxBlockSize)
		}
		blk, err := types.DecodeBlock(b[1:])
		if err != nil {
			return nil, protocolError(ErrMalformed, "block does not decode: %v", err)
		}
		return &blockFrame{Block: blk}, nil
	case blockFrameNotFound:
		if len(b) != notFoundFrameSize {
			return nil, protocolError(ErrMalformed, "not-found frame of %d bytes, want %d", len(b), notFoundFrameSize)
		}
		f := &blockFrame{NotFound: true}
		copy(f.Hash[:], b[1:])
		return f, nil
	}
	return nil, protocolError(ErrMalformed, "unknown block frame tag %d", b[0])
}

// Frame reading with deadlines that follow progress: a peer gets wait to
// start each frame, then wait plus the announced length at minTransferRate
// to finish it, so a slow honest link can send a large block while a peer
// that sends nothing is caught after wait.
const minTransferRate = 128 << 10 // bytes per second

// deadlineReader is a stream as frameReader needs it.
type deadlineReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// errEndOfStream: the stream ended cleanly between frames.
var errEndOfStream = errors.New("end of stream")

// readTimedFrame reads one frame (the format of writeFrame) of at most max
// bytes. The length is checked before the body is read or allocated. A
// stream that ends before the first byte of a frame gives errEndOfStream;
// failures that are the peer's are *ProtocolError values.
func readTimedFrame(r deadlineReader, max int, wait time.Duration) ([]byte, error) {
	_ = r.SetReadDeadline(time.Now().Add(wait))
	var one [1]byte
	var length uint64
	for i := 0; ; i++ {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			if i == 0 && errors.Is(err, io.EOF) {
				return nil, errEndOfStream
			}
			return nil, frameReadError(err)
		}
		length |= uint64(one[0]&0x7f) << (7 * i)
		if length > uint64(max) {
			return nil, protocolError(ErrFrameTooLarge, "frame larger than %d bytes", max)
		}
		if one[0]&0x80 == 0 {
			break
		}
		if i == 9 {
			return nil, protocolError(ErrMalformed, "frame length is not a varint")
		}
	}
	_ = r.SetReadDeadline(time.Now().Add(wait + time.Duration(length)*time.Second/minTransferRate))
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, frameReadError(err)
	}
	return body, nil
}

func frameReadError(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return protocolError(ErrStreamClosed, "stream ended inside a frame")
	case isTimeout(err):
		return protocolError(ErrTimeout, "peer did not answer in time")
	}
	return err
}
