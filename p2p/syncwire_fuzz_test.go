package p2p

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// Every sync message decoder gets hostile bytes from the network. Each
// target checks that the decoder does not panic, that its failures are
// *ProtocolError values of the kinds a peer is scored by, that what it
// accepts is within the protocol's limits, and that it is canonical:
// encode(decode(b)) == b.

func wantPeerError(t *testing.T, err error, kinds ...ErrorKind) {
	t.Helper()
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ProtocolError", err, err)
	}
	for _, k := range kinds {
		if pe.Kind == k {
			return
		}
	}
	t.Fatalf("error kind %s, want one of %v", pe.Kind, kinds)
}

func FuzzDecodeGetHeaders(f *testing.F) {
	f.Add((&getHeaders{Max: 1}).encode())
	f.Add((&getHeaders{Locator: []types.Hash{{1}, {2}, {3}}, Stop: types.Hash{4}, Max: maxHeadersPerRequest}).encode())
	f.Add((&getHeaders{Locator: make([]types.Hash, maxLocatorHashes), Max: 7}).encode())
	f.Add((&getHeaders{Locator: make([]types.Hash, maxLocatorHashes+1), Max: 7}).encode())
	f.Add((&getHeaders{Max: 65535}).encode())
	f.Add([]byte{0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeGetHeaders(b)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			wantPeerError(t, err, ErrMalformed, ErrProtocol)
			return
		}
		if len(m.Locator) > maxLocatorHashes || m.Max == 0 || m.Max > maxHeadersPerRequest || len(b) > maxGetHeadersSize {
			t.Fatalf("accepted over the limits: %d hashes, max %d, %d bytes", len(m.Locator), m.Max, len(b))
		}
		if !bytes.Equal(m.encode(), b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, m.encode())
		}
	})
}

func FuzzDecodeHeaders(f *testing.F) {
	g := chaingen.New(chaingen.Options{})
	blocks := g.Chain(g.Genesis.Hash, 3, "fuzz")
	hdrs := []types.Header{blocks[0].Header, blocks[1].Header, blocks[2].Header}
	f.Add(encodeHeaders(nil), uint16(1))
	f.Add(encodeHeaders(hdrs[:1]), uint16(1))
	f.Add(encodeHeaders(hdrs), uint16(2000))
	f.Add(encodeHeaders(hdrs), uint16(2))
	f.Add([]byte{0x07, 0xd1}, uint16(2000))
	f.Fuzz(func(t *testing.T, b []byte, max uint16) {
		got, err := decodeHeaders(b, int(max))
		if err != nil {
			if got != nil {
				t.Fatal("headers returned with an error")
			}
			wantPeerError(t, err, ErrMalformed, ErrProtocol)
			return
		}
		if len(got) > int(max) {
			t.Fatalf("%d headers accepted for a request of %d", len(got), max)
		}
		if !bytes.Equal(encodeHeaders(got), b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, encodeHeaders(got))
		}
	})
}

func FuzzDecodeGetBlocks(f *testing.F) {
	f.Add((&getBlocks{Hashes: []types.Hash{{1}}}).encode())
	f.Add((&getBlocks{Hashes: make([]types.Hash, maxBlocksPerRequest)}).encode())
	f.Add((&getBlocks{Hashes: make([]types.Hash, maxBlocksPerRequest+1)}).encode())
	f.Add((&getBlocks{}).encode())
	f.Add([]byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeGetBlocks(b)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			wantPeerError(t, err, ErrMalformed, ErrProtocol)
			return
		}
		if len(m.Hashes) == 0 || len(m.Hashes) > maxBlocksPerRequest || len(b) > maxGetBlocksSize {
			t.Fatalf("accepted over the limits: %d hashes, %d bytes", len(m.Hashes), len(b))
		}
		if !bytes.Equal(m.encode(), b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, m.encode())
		}
	})
}

func FuzzDecodeBlockFrame(f *testing.F) {
	g := chaingen.New(chaingen.Options{})
	tx := g.Transfer(0, g.Addrs[1], 5, 1, 0)
	blk := g.MustBlock(g.Genesis.Hash, []*types.Tx{tx})
	f.Add(encodeBlockFrame(blk), uint32(4_000_000))
	f.Add(encodeBlockFrame(blk), uint32(100))
	f.Add(encodeBlockFrame(g.Chain(g.Genesis.Hash, 1, "x")[0]), uint32(4_000_000))
	f.Add(encodeNotFoundFrame(types.Hash{1, 2, 3}), uint32(4_000_000))
	f.Add([]byte{blockFrameNotFound, 1}, uint32(4_000_000))
	f.Add([]byte{2}, uint32(4_000_000))
	f.Fuzz(func(t *testing.T, b []byte, maxBlock uint32) {
		fr, err := decodeBlockFrame(b, maxBlock)
		if err != nil {
			if fr != nil {
				t.Fatal("frame returned with an error")
			}
			wantPeerError(t, err, ErrMalformed, ErrFrameTooLarge)
			return
		}
		var enc []byte
		if fr.NotFound {
			enc = encodeNotFoundFrame(fr.Hash)
		} else {
			if fr.Block.EncodedSize() > int(maxBlock) {
				t.Fatalf("block of %d bytes accepted, limit %d", fr.Block.EncodedSize(), maxBlock)
			}
			enc = encodeBlockFrame(fr.Block)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, enc)
		}
	})
}

// fuzzStream is a stream made of fixed bytes.
type fuzzStream struct{ *bytes.Reader }

func (fuzzStream) SetReadDeadline(time.Time) error { return nil }

// FuzzReadTimedFrame: the frame reader splits any byte stream into frames
// no larger than its limit, or fails with a peer error, and never reads
// a body it refused.
func FuzzReadTimedFrame(f *testing.F) {
	f.Add(frame([]byte("hello")), uint32(100))
	f.Add(append(frame([]byte("a")), frame(bytes.Repeat([]byte{7}, 300))...), uint32(200))
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, uint32(1<<31))
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f}, uint32(10))
	f.Add([]byte{0x05, 1, 2}, uint32(10))
	f.Fuzz(func(t *testing.T, b []byte, max uint32) {
		r := fuzzStream{bytes.NewReader(b)}
		for {
			before := r.Len()
			body, err := readTimedFrame(r, int(max%(1<<24)), time.Second)
			if errors.Is(err, errEndOfStream) {
				if before != 0 {
					t.Fatalf("clean end with %d bytes left", before)
				}
				return
			}
			if err != nil {
				wantPeerError(t, err, ErrMalformed, ErrFrameTooLarge, ErrStreamClosed)
				if errors.Is(err, ErrFrameTooLarge) && before-r.Len() > 10 {
					t.Fatalf("read %d bytes of a refused frame", before-r.Len())
				}
				return
			}
			if len(body) > int(max%(1<<24)) {
				t.Fatalf("frame of %d bytes, limit %d", len(body), max%(1<<24))
			}
		}
	})
}
