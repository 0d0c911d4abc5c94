package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// headerVector is one entry of testdata/header_vectors.json (and the header
// of a block vector).
type headerVector struct {
	Name      string `json:"name,omitempty"`
	Version   uint16 `json:"version"`
	Height    uint32 `json:"height"`
	PrevBlock string `json:"prev_block"`
	TxRoot    string `json:"tx_root"`
	StateRoot string `json:"state_root"`
	Time      uint64 `json:"time"`
	Bits      uint32 `json:"bits"`
	Nonce     uint32 `json:"nonce"`
	Encoding  string `json:"encoding"`
	Hash      string `json:"hash"`
}

func newHeaderVector(name string, h *Header) headerVector {
	enc := h.Encode()
	return headerVector{
		Name: name, Version: h.Version, Height: h.Height,
		PrevBlock: h.PrevBlock.String(), TxRoot: h.TxRoot.String(), StateRoot: h.StateRoot.String(),
		Time: h.Time, Bits: h.Bits, Nonce: h.Nonce,
		Encoding: hex.EncodeToString(enc[:]), Hash: h.Hash().String(),
	}
}

func (v headerVector) header(t testing.TB) *Header {
	t.Helper()
	return &Header{
		Version: v.Version, Height: v.Height,
		PrevBlock: mustHash(t, v.PrevBlock), TxRoot: mustHash(t, v.TxRoot), StateRoot: mustHash(t, v.StateRoot),
		Time: v.Time, Bits: v.Bits, Nonce: v.Nonce,
	}
}

func headerSpecs() []struct {
	name string
	h    Header
} {
	ff := func() (h Hash) {
		for i := range h {
			h[i] = 0xff
		}
		return h
	}
	return []struct {
		name string
		h    Header
	}{
		{"zero", Header{}},
		// Every field holds bytes counting up from 1, so the encoding is
		// the bytes 0x01..0x76 exactly.
		{"layout", Header{
			Version: 0x0102, Height: 0x03040506,
			PrevBlock: seqHash(0x07), TxRoot: seqHash(0x27), StateRoot: seqHash(0x47),
			Time: 0x6768696a6b6c6d6e, Bits: 0x6f707172, Nonce: 0x73747576,
		}},
		{"max", Header{
			Version: math.MaxUint16, Height: math.MaxUint32, PrevBlock: ff(), TxRoot: ff(), StateRoot: ff(),
			Time: math.MaxUint64, Bits: math.MaxUint32, Nonce: math.MaxUint32,
		}},
		{"typical", Header{
			Version: 1, Height: 840000,
			PrevBlock: DoubleSHA256([]byte("previous block")),
			TxRoot:    MerkleRoot([]Hash{DoubleSHA256([]byte("coinbase")), DoubleSHA256([]byte("transfer"))}),
			StateRoot: DoubleSHA256([]byte("state")),
			Time:      1700000000, Bits: 0x1d00ffff, Nonce: 0x12345678,
		}},
	}
}

func genHeaderVectors() []headerVector {
	var out []headerVector
	for _, s := range headerSpecs() {
		out = append(out, newHeaderVector(s.name, &s.h))
	}
	return out
}

func TestHeaderGolden(t *testing.T) {
	for _, v := range golden(t, "header_vectors.json", genHeaderVectors()) {
		t.Run(v.Name, func(t *testing.T) {
			h := v.header(t)
			enc := h.Encode()
			if got := hex.EncodeToString(enc[:]); got != v.Encoding {
				t.Errorf("encoding\n got %s\nwant %s", got, v.Encoding)
			}
			if got := h.Hash().String(); got != v.Hash {
				t.Errorf("hash %s, want %s", got, v.Hash)
			}
			raw := mustHex(t, v.Encoding)
			dec, err := DecodeHeader(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dec, h) {
				t.Errorf("decoded %+v\nwant    %+v", dec, h)
			}
			if got := dec.Encode(); !bytes.Equal(got[:], raw) {
				t.Error("encode(decode(b)) != b")
			}
		})
	}
}

// TestHeaderLayoutByHand checks the layout vector against its spelled-out
// bytes and every field's offset.
func TestHeaderLayoutByHand(t *testing.T) {
	var layout, zero headerVector
	for _, v := range loadVectors[headerVector](t, "header_vectors.json") {
		switch v.Name {
		case "layout":
			layout = v
		case "zero":
			zero = v
		}
	}
	enc := mustHex(t, layout.Encoding)
	if len(enc) != HeaderSize || HeaderSize != 118 {
		t.Fatalf("header encoding is %d bytes, HeaderSize %d, want 118", len(enc), HeaderSize)
	}
	for i, b := range enc {
		if b != byte(i+1) {
			t.Fatalf("byte %d = %#x, want %#x", i, b, i+1)
		}
	}
	fields := []struct {
		name      string
		off, size int
		value     uint64 // big-endian value of the integer fields
	}{
		{"version", 0, 2, 0x0102},
		{"height", 2, 4, 0x03040506},
		{"prev block", 6, 32, 0},
		{"tx root", 38, 32, 0},
		{"state root", 70, 32, 0},
		{"time", 102, 8, 0x6768696a6b6c6d6e},
		{"bits", 110, 4, 0x6f707172},
		{"nonce", 114, 4, 0x73747576},
	}
	h := layout.header(t)
	end := 0
	for _, f := range fields {
		if f.off != end {
			t.Fatalf("%s at %d, previous field ends at %d", f.name, f.off, end)
		}
		end = f.off + f.size
		if f.size > 8 {
			continue // a hash, checked below
		}
		var be [8]byte
		copy(be[8-f.size:], enc[f.off:end])
		if binary.BigEndian.Uint64(be[:]) != f.value {
			t.Errorf("%s: %x, want %#x big-endian", f.name, enc[f.off:end], f.value)
		}
	}
	if end != HeaderSize {
		t.Errorf("fields end at %d", end)
	}
	if h.PrevBlock != seqHash(7) || h.TxRoot != seqHash(0x27) || h.StateRoot != seqHash(0x47) {
		t.Errorf("hash fields %x %x %x", h.PrevBlock, h.TxRoot, h.StateRoot)
	}
	if NonceOffset != 114 || binary.BigEndian.Uint32(enc[NonceOffset:]) != h.Nonce {
		t.Errorf("NonceOffset %d does not locate the nonce", NonceOffset)
	}

	for _, v := range []headerVector{layout, zero} {
		b := mustHex(t, v.Encoding)
		if v.Name == "zero" && !bytes.Equal(b, make([]byte, HeaderSize)) {
			t.Errorf("zero header encodes as %x", b)
		}
		h1 := sha256.Sum256(b)
		if h2 := sha256.Sum256(h1[:]); hex.EncodeToString(h2[:]) != v.Hash {
			t.Errorf("%s: hash %s is not SHA-256(SHA-256(encoding))", v.Name, v.Hash)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		h := randomHeader(rng)
		enc := h.Encode()
		var put [HeaderSize]byte
		h.Put(&put)
		if put != enc {
			t.Fatalf("%d: Put and Encode differ", i)
		}
		if h.Hash() != DoubleSHA256(enc[:]) {
			t.Fatalf("%d: Hash is not DoubleSHA256 of the encoding", i)
		}
		in := bytes.Clone(enc[:])
		dec, err := DecodeHeader(in)
		if err != nil {
			t.Fatal(err)
		}
		if *dec != *h {
			t.Fatalf("%d: decode(encode(h)) = %+v, want %+v", i, dec, h)
		}
		// The decoded header does not alias the input.
		for j := range in {
			in[j] ^= 0xff
		}
		if *dec != *h {
			t.Fatalf("%d: decoded header changed with its input", i)
		}
	}
}

func randomHeader(rng *rand.Rand) *Header {
	h := &Header{
		Version: uint16(rng.Uint32()), Height: rng.Uint32(), Time: rng.Uint64(), Bits: rng.Uint32(), Nonce: rng.Uint32(),
	}
	fill(rng, h.PrevBlock[:])
	fill(rng, h.TxRoot[:])
	fill(rng, h.StateRoot[:])
	return h
}

func TestDecodeHeaderErrors(t *testing.T) {
	enc := make([]byte, HeaderSize+100)
	for n := range HeaderSize {
		h, err := DecodeHeader(enc[:n])
		if h != nil || kindOf(err) != ErrShortInput {
			t.Fatalf("%d bytes: %v, want ErrShortInput", n, err)
		}
	}
	wantKind(t, func() error { _, err := DecodeHeader(nil); return err }(), ErrShortInput)
	for _, n := range []int{HeaderSize + 1, HeaderSize + 100} {
		h, err := DecodeHeader(enc[:n])
		if h != nil {
			t.Errorf("%d bytes: got a header", n)
		}
		wantKind(t, err, ErrTrailingBytes)
	}
	if _, err := DecodeHeader(enc[:HeaderSize]); err != nil {
		t.Errorf("%d bytes: %v", HeaderSize, err)
	}
}

// TestHeaderMidstate checks what a miner's midstate relies on: the first
// MidstateSize bytes hold only version, height, previous hash and the start
// of the tx root, and the rest of the header plus SHA-256 padding (at least
// 9 bytes) fits in one more 64-byte block.
func TestHeaderMidstate(t *testing.T) {
	if MidstateSize != 64 || HeaderSize-MidstateSize+9 > 64 {
		t.Fatalf("HeaderSize %d does not leave room for padding after a %d-byte midstate", HeaderSize, MidstateSize)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	base := randomHeader(rng)
	b0 := base.Encode()
	after := []func(h *Header){
		func(h *Header) { h.Nonce++ },
		func(h *Header) { h.Time++ },
		func(h *Header) { h.Bits++ },
		func(h *Header) { h.StateRoot[0]++ },
		func(h *Header) { h.TxRoot[MidstateSize-38]++ }, // first byte of the tx root past the midstate
		func(h *Header) { h.TxRoot[31]++ },
	}
	for i, f := range after {
		h := *base
		f(&h)
		b := h.Encode()
		if !bytes.Equal(b[:MidstateSize], b0[:MidstateSize]) || b == b0 {
			t.Errorf("change %d: midstate prefix changed or encoding did not", i)
		}
	}
	before := []func(h *Header){
		func(h *Header) { h.Version++ },
		func(h *Header) { h.Height++ },
		func(h *Header) { h.PrevBlock[31]++ },
		func(h *Header) { h.TxRoot[MidstateSize-38-1]++ }, // last tx root byte inside the midstate
	}
	for i, f := range before {
		h := *base
		f(&h)
		b := h.Encode()
		if bytes.Equal(b[:MidstateSize], b0[:MidstateSize]) {
			t.Errorf("change %d: midstate prefix unchanged", i)
		}
	}
}
