package types

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
)

// blockVector is one entry of testdata/block_vectors.json: a header, the
// encodings of its transactions, their ids, and the block's encoding and
// hash. The header's tx root is the Merkle root of the ids.
type blockVector struct {
	Name     string       `json:"name"`
	Header   headerVector `json:"header"`
	Txs      []string     `json:"txs"`
	TxIDs    []string     `json:"tx_ids"`
	Encoding string       `json:"encoding"`
	Hash     string       `json:"hash"`
}

func blockSpecs() []struct {
	name  string
	h     Header
	txs   []string // tx spec names
	state string
} {
	return []struct {
		name  string
		h     Header
		txs   []string
		state string
	}{
		{"empty", Header{Version: 1, Height: 0, Time: 1700000000, Bits: 0x207fffff, Nonce: 1}, nil, "empty state"},
		{"coinbase-only", Header{Version: 1, Height: 0, Time: 1700000000, Bits: 0x207fffff, Nonce: 2}, []string{"coinbase/no-memo"}, "genesis state"},
		{"many", Header{
			Version: 1, Height: 1234567, PrevBlock: DoubleSHA256([]byte("block 1234566")),
			Time: 1700001234, Bits: 0x1d00ffff, Nonce: 0xdeadbeef,
		}, []string{"coinbase/memo", "transfer/no-memo", "transfer/memo", "transfer/memo-max", "transfer/zero-fields", "transfer/layout"}, "state 1234567"},
	}
}

func genBlockVectors() []blockVector {
	specs := map[string]txSpec{}
	for _, s := range txSpecs() {
		specs[s.name] = s
	}
	var out []blockVector
	for _, s := range blockSpecs() {
		blk := &Block{Header: s.h}
		for _, name := range s.txs {
			blk.Txs = append(blk.Txs, specs[name].signedTx())
		}
		blk.Header.TxRoot = MerkleRoot(blk.TxHashes())
		blk.Header.StateRoot = DoubleSHA256([]byte(s.state))
		v := blockVector{
			Name: s.name, Header: newHeaderVector("", &blk.Header),
			Txs: []string{}, TxIDs: []string{},
			Encoding: hex.EncodeToString(blk.Encode()), Hash: blk.Hash().String(),
		}
		for _, tx := range blk.Txs {
			v.Txs = append(v.Txs, hex.EncodeToString(tx.Encode()))
			v.TxIDs = append(v.TxIDs, tx.Hash().String())
		}
		out = append(out, v)
	}
	return out
}

func blockVectors(t testing.TB) map[string]blockVector {
	t.Helper()
	m := map[string]blockVector{}
	for _, v := range loadVectors[blockVector](t, "block_vectors.json") {
		m[v.Name] = v
	}
	return m
}

func TestBlockGolden(t *testing.T) {
	for _, v := range golden(t, "block_vectors.json", genBlockVectors()) {
		t.Run(v.Name, func(t *testing.T) {
			blk := &Block{Header: *v.Header.header(t)}
			for _, s := range v.Txs {
				tx, err := DecodeTx(mustHex(t, s))
				if err != nil {
					t.Fatal(err)
				}
				blk.Txs = append(blk.Txs, tx)
			}
			ids := blk.TxHashes()
			if len(ids) != len(v.TxIDs) {
				t.Fatalf("%d ids, want %d", len(ids), len(v.TxIDs))
			}
			for i, id := range ids {
				if id.String() != v.TxIDs[i] {
					t.Errorf("tx %d id %s, want %s", i, id, v.TxIDs[i])
				}
			}
			if MerkleRoot(ids) != blk.Header.TxRoot {
				t.Errorf("header tx root is not the Merkle root of the ids")
			}
			enc := blk.Encode()
			if got := hex.EncodeToString(enc); got != v.Encoding {
				t.Errorf("encoding\n got %s\nwant %s", got, v.Encoding)
			}
			if len(enc) != blk.EncodedSize() {
				t.Errorf("len(Encode()) %d, EncodedSize() %d", len(enc), blk.EncodedSize())
			}
			hdr := blk.Header.Encode()
			if got := hex.EncodeToString(hdr[:]); got != v.Header.Encoding {
				t.Errorf("header encoding %s, want %s", got, v.Header.Encoding)
			}
			if blk.Hash().String() != v.Hash || v.Header.Hash != v.Hash {
				t.Errorf("block hash %s, header hash %s, want %s", blk.Hash(), v.Header.Hash, v.Hash)
			}
			raw := mustHex(t, v.Encoding)
			dec, err := DecodeBlock(raw)
			if err != nil {
				t.Fatal(err)
			}
			if blk.Txs == nil {
				blk.Txs = []*Tx{} // the decoder makes an empty list
			}
			if !reflect.DeepEqual(dec, blk) {
				t.Errorf("decoded %+v\nwant    %+v", dec, blk)
			}
			if !bytes.Equal(dec.Encode(), raw) {
				t.Error("encode(decode(b)) != b")
			}
		})
	}
}

// TestBlockLayoutByHand checks that a block is its header, a 4-byte
// big-endian transaction count and the transactions, back to back.
func TestBlockLayoutByHand(t *testing.T) {
	txv := txVectors(t)
	for name, v := range blockVectors(t) {
		enc := mustHex(t, v.Encoding)
		want := mustHex(t, v.Header.Encoding)
		want = binary.BigEndian.AppendUint32(want, uint32(len(v.Txs)))
		for _, tx := range v.Txs {
			want = append(want, mustHex(t, tx)...)
		}
		if !bytes.Equal(enc, want) {
			t.Errorf("%s: encoding is not header || count || txs", name)
		}
	}
	// The block txs are the tx vectors, so their bytes are covered by
	// TestTxLayoutByHand.
	v := blockVectors(t)["coinbase-only"]
	if len(v.Txs) != 1 || v.Txs[0] != txv["coinbase/no-memo"].Encoding {
		t.Errorf("coinbase-only block does not hold the coinbase/no-memo vector")
	}
	enc := mustHex(t, v.Encoding)
	if got := enc[HeaderSize : HeaderSize+4]; !bytes.Equal(got, []byte{0, 0, 0, 1}) {
		t.Errorf("count bytes %x", got)
	}
	if len(enc) != HeaderSize+4+MinTxSize {
		t.Errorf("coinbase-only block is %d bytes", len(enc))
	}
	// The empty block is header || 00000000 and its tx root is SHA-256("").
	v = blockVectors(t)["empty"]
	if enc := mustHex(t, v.Encoding); len(enc) != HeaderSize+4 || !bytes.Equal(enc[HeaderSize:], []byte{0, 0, 0, 0}) {
		t.Errorf("empty block encoding %x", enc)
	}
	if v.Header.TxRoot != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty tx root %s", v.Header.TxRoot)
	}
}

func TestBlockRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 3, 100} {
		blk := &Block{Header: *randomHeader(rng), Txs: []*Tx{}}
		for range n {
			blk.Txs = append(blk.Txs, randomTx(rng))
		}
		enc := blk.Encode()
		if len(enc) != blk.EncodedSize() {
			t.Fatalf("%d txs: len %d, EncodedSize %d", n, len(enc), blk.EncodedSize())
		}
		dec, err := DecodeBlock(enc)
		if err != nil {
			t.Fatalf("%d txs: %v", n, err)
		}
		if !reflect.DeepEqual(dec, blk) {
			t.Fatalf("%d txs: decode(encode(b)) != b", n)
		}
		if !bytes.Equal(dec.Encode(), enc) {
			t.Fatalf("%d txs: encode(decode(b)) != b", n)
		}
		if dec.Hash() != blk.Header.Hash() {
			t.Fatalf("%d txs: block hash is not the header hash", n)
		}
		// The decoded transactions do not alias the input.
		before := dec.Encode()
		for i := range enc {
			enc[i] ^= 0x5a
		}
		if !bytes.Equal(dec.Encode(), before) {
			t.Fatalf("%d txs: decoded block changed with its input", n)
		}
	}
}

// blockTruncationKind is the kind DecodeBlock reports for the first n
// bytes of a valid block that announces count transactions: the count is
// checked against the bytes left (at MinTxSize each) before any
// transaction is read, so a cut that leaves too few bytes for the count is
// ErrOverLimit, and any other cut is ErrShortInput.
func blockTruncationKind(n int, count uint32) ErrorKind {
	if n >= HeaderSize+4 && uint64(count)*MinTxSize > uint64(n-HeaderSize-4) {
		return ErrOverLimit
	}
	return ErrShortInput
}

func TestDecodeBlockTruncated(t *testing.T) {
	for name, v := range blockVectors(t) {
		enc := mustHex(t, v.Encoding)
		count := uint32(len(v.Txs))
		short := 0
		for n := range len(enc) {
			want := blockTruncationKind(n, count)
			if n > HeaderSize+4 && want == ErrShortInput {
				short++
			}
			blk, err := DecodeBlock(enc[:n])
			if blk != nil || kindOf(err) != want {
				t.Fatalf("%s cut to %d of %d bytes: %v, want %s", name, n, len(enc), err, want)
			}
		}
		// Cuts inside the transactions that leave room for the count
		// must be reported as short input.
		if name == "many" && short == 0 {
			t.Errorf("%s: no cut inside the transactions reached ErrShortInput", name)
		}
	}
}

func TestDecodeBlockErrors(t *testing.T) {
	vs := blockVectors(t)
	empty := mustHex(t, vs["empty"].Encoding)
	cbOnly := mustHex(t, vs["coinbase-only"].Encoding)
	many := mustHex(t, vs["many"].Encoding)
	_, cb := vectorTx(t, "coinbase/no-memo")
	_, transfer := vectorTx(t, "transfer/memo")
	hdr := empty[:HeaderSize]

	block := func(count uint32, txs ...[]byte) []byte {
		b := bytes.Clone(hdr)
		b = binary.BigEndian.AppendUint32(b, count)
		for _, tx := range txs {
			b = append(b, tx...)
		}
		return b
	}
	patch := func(b []byte, off int, repl ...byte) []byte {
		out := bytes.Clone(b)
		copy(out[off:], repl)
		return out
	}
	memo257 := patch(cb, 49, 0x01, 0x01)

	tests := []struct {
		name string
		in   []byte
		want ErrorKind // "" for success
	}{
		{"nothing", nil, ErrShortInput},
		{"header only", hdr, ErrShortInput},
		{"header and 3 count bytes", block(0)[:HeaderSize+3], ErrShortInput},
		{"empty block", block(0), ""},
		{"empty block plus a byte", append(bytes.Clone(empty), 0), ErrTrailingBytes},
		{"coinbase-only plus a byte", append(bytes.Clone(cbOnly), 0), ErrTrailingBytes},
		{"many plus a byte", append(bytes.Clone(many), 0), ErrTrailingBytes},
		{"count 0, one coinbase follows", block(0, cb), ErrTrailingBytes},
		{"count 1, two coinbases follow", block(1, cb, cb), ErrTrailingBytes},
		{"count 2, two coinbases", block(2, cb, cb), ""},
		{"count 3, two coinbases (102 bytes < 3*51)", block(3, cb, cb), ErrOverLimit},
		{"count 2, one coinbase (51 bytes < 2*51)", block(2, cb), ErrOverLimit},
		{"count 2, 101 bytes", block(2, cb, cb[:50]), ErrOverLimit},
		{"count 2, coinbase and 51 bytes of a transfer", block(2, cb, transfer[:51]), ErrShortInput},
		{"count 0xFFFFFFFF, empty body", block(math.MaxUint32), ErrOverLimit},
		{"count 0xFFFFFFFF, one coinbase", block(math.MaxUint32, cb), ErrOverLimit},
		{"count 1, transfer one byte short", block(1, transfer[:len(transfer)-1]), ErrShortInput},
		{"second tx of unknown kind", block(2, cb, patch(cb, 0, 7)), ErrUnknownTxKind},
		{"second tx memo length 257", block(2, cb, memo257), ErrOverLimit},
		{"first tx relabelled transfer", block(1, patch(cb, 0, 0)), ErrShortInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blk, err := DecodeBlock(tt.in)
			if tt.want == "" {
				if err != nil || blk == nil {
					t.Fatalf("DecodeBlock: %v", err)
				}
				if !bytes.Equal(blk.Encode(), tt.in) {
					t.Fatal("encode(decode(b)) != b")
				}
				return
			}
			if blk != nil {
				t.Errorf("got a block with error %v", err)
			}
			wantKind(t, err, tt.want)
		})
	}

	// The boundary, for every body length up to 5 transactions' worth: a
	// count is refused exactly when count*MinTxSize exceeds the body.
	for body := 0; body <= 5*MinTxSize; body++ {
		for count := uint32(0); count <= 6; count++ {
			_, err := DecodeBlock(block(count, make([]byte, body)))
			over := uint64(count)*MinTxSize > uint64(body)
			if over != (kindOf(err) == ErrOverLimit) {
				t.Fatalf("count %d, body %d: %v", count, body, err)
			}
		}
	}
}

// A hostile count must be refused before the transaction list is made: a
// 4-billion-entry []*Tx would be 32 GiB.
func TestDecodeBlockHugeCountFailsFast(t *testing.T) {
	in := binary.BigEndian.AppendUint32(make([]byte, HeaderSize), math.MaxUint32)
	in = append(in, make([]byte, 3*MinTxSize)...)

	const runs = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, err := DecodeBlock(in); kindOf(err) != ErrOverLimit {
			t.Fatalf("%v, want ErrOverLimit", err)
		}
	}
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / runs
	if perRun > 1024 {
		t.Errorf("DecodeBlock allocated %d bytes per call for a hostile count", perRun)
	}
	if allocs := testing.AllocsPerRun(runs, func() { DecodeBlock(in) }); allocs > 8 {
		t.Errorf("DecodeBlock made %v allocations for a hostile count", allocs)
	}
}

func TestBlockTxHashes(t *testing.T) {
	if ids := (&Block{}).TxHashes(); len(ids) != 0 {
		t.Errorf("TxHashes of no txs = %v", ids)
	}
	blk, err := DecodeBlock(mustHex(t, blockVectors(t)["many"].Encoding))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range blk.TxHashes() {
		if id != blk.Txs[i].Hash() {
			t.Errorf("id %d is not the tx hash", i)
		}
	}
}
