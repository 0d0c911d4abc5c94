package types

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// txVector is one entry of testdata/tx_vectors.json. Amounts are base
// units; byte strings are hex. A transfer is signed with the private key
// whose scalar is priv_key for the network whose genesis hash is genesis.
type txVector struct {
	Name     string `json:"name"`
	Kind     uint8  `json:"kind"`
	ChainID  uint32 `json:"chain_id"`
	Nonce    uint64 `json:"nonce"`
	To       string `json:"to"`
	Amount   uint64 `json:"amount"`
	Fee      uint64 `json:"fee"`
	Memo     string `json:"memo"`
	PrivKey  string `json:"priv_key,omitempty"`
	Genesis  string `json:"genesis,omitempty"`
	PubKey   string `json:"pub_key,omitempty"`
	Sender   string `json:"sender,omitempty"`
	SigHash  string `json:"sig_hash,omitempty"`
	Sig      string `json:"sig,omitempty"`
	Encoding string `json:"encoding"`
	Hash     string `json:"hash"`
}

type txSpec struct {
	name string
	key  byte // private key scalar for a transfer; 0 for a coinbase
	tx   Tx
}

func addrFromBytes(b []byte) (a Address) {
	copy(a[:], b)
	return a
}

// txSpecs are the inputs of the tx vectors. Every field is fixed; the
// signatures are deterministic (RFC 6979), so the vectors are too.
func txSpecs() []txSpec {
	memoMax := seqBytes(0, MaxMemoSize)
	memoFF := bytes.Repeat([]byte{0xff}, MaxMemoSize)
	return []txSpec{
		{"transfer/layout", 1, Tx{
			Kind: TxTransfer, ChainID: 0x01020304, Nonce: 0x05060708090a0b0c,
			To: addrFromBytes(seqBytes(0x10, AddressSize)), Amount: 0x2425262728292a2b, Fee: 0x2c2d2e2f30313233,
			Memo: []byte{0x34, 0x35, 0x36},
		}},
		{"coinbase/layout", 0, Tx{
			Kind: TxCoinbase, ChainID: 0x01020304, Nonce: 0x05060708090a0b0c,
			To: addrFromBytes(seqBytes(0x10, AddressSize)), Amount: 0x2425262728292a2b, Fee: 0,
			Memo: []byte{0x34, 0x35, 0x36},
		}},
		{"transfer/no-memo", 1, Tx{
			Kind: TxTransfer, ChainID: 1, Nonce: 0, To: testAddr(2), Amount: Coin, Fee: 1000,
		}},
		{"transfer/memo", 2, Tx{
			Kind: TxTransfer, ChainID: 1, Nonce: 7, To: testAddr(3), Amount: 12*Coin + 1, Fee: 0,
			Memo: []byte("hello, ledger"),
		}},
		{"transfer/memo-max", 3, Tx{
			Kind: TxTransfer, ChainID: 0xdeadbeef, Nonce: math.MaxUint64, To: addrFromBytes(seqBytes(1, AddressSize)),
			Amount: MaxAmount, Fee: MaxAmount, Memo: memoMax,
		}},
		{"transfer/zero-fields", 2, Tx{Kind: TxTransfer}},
		{"coinbase/no-memo", 0, Tx{
			Kind: TxCoinbase, ChainID: 1, Nonce: 0, To: testAddr(1), Amount: 50 * Coin,
		}},
		{"coinbase/memo", 0, Tx{
			Kind: TxCoinbase, ChainID: 1, Nonce: 1234567, To: testAddr(2), Amount: 50*Coin + 1000,
			Memo: []byte{0, 0, 0, 0, 0, 0, 0, 42},
		}},
		{"coinbase/memo-max", 0, Tx{
			Kind: TxCoinbase, ChainID: 0xffffffff, Nonce: math.MaxUint64, To: addrFromBytes(memoFF[:AddressSize]),
			Amount: MaxAmount, Memo: memoFF,
		}},
	}
}

// signedTx builds the transaction of a spec, signed for testGenesis.
func (s txSpec) signedTx() *Tx {
	tx := s.tx
	tx.Memo = append([]byte(nil), s.tx.Memo...)
	if len(tx.Memo) == 0 {
		tx.Memo = nil
	}
	if s.key != 0 {
		SignTx(&tx, testKey(s.key), testGenesis)
	}
	return &tx
}

func genTxVectors() []txVector {
	var out []txVector
	for _, s := range txSpecs() {
		tx := s.signedTx()
		v := txVector{
			Name: s.name, Kind: uint8(tx.Kind), ChainID: tx.ChainID, Nonce: tx.Nonce,
			To: hex.EncodeToString(tx.To[:]), Amount: uint64(tx.Amount), Fee: uint64(tx.Fee),
			Memo: hex.EncodeToString(tx.Memo), Encoding: hex.EncodeToString(tx.Encode()), Hash: tx.Hash().String(),
		}
		if s.key != 0 {
			v.PrivKey = hex.EncodeToString(testKey(s.key).Serialize())
			v.Genesis = testGenesis.String()
			v.PubKey = hex.EncodeToString(tx.PubKey[:])
			sender := tx.Sender()
			v.Sender = hex.EncodeToString(sender[:])
			v.SigHash = tx.SigHash(testGenesis).String()
			v.Sig = hex.EncodeToString(tx.Sig[:])
		}
		out = append(out, v)
	}
	return out
}

// txVectors returns the checked-in tx vectors by name.
func txVectors(t testing.TB) map[string]txVector {
	t.Helper()
	m := map[string]txVector{}
	for _, v := range loadVectors[txVector](t, "tx_vectors.json") {
		m[v.Name] = v
	}
	return m
}

// vectorTx decodes the named checked-in vector.
func vectorTx(t testing.TB, name string) (*Tx, []byte) {
	t.Helper()
	v, ok := txVectors(t)[name]
	if !ok {
		t.Fatalf("no tx vector %q", name)
	}
	enc := mustHex(t, v.Encoding)
	tx, err := DecodeTx(enc)
	if err != nil {
		t.Fatalf("vector %s: %v", name, err)
	}
	return tx, enc
}

// TestTxGolden rebuilds every vector from its fields (and private key) and
// checks the encoding, id, signature and signature hash, then decodes the
// encoding and checks it gives back the same fields.
func TestTxGolden(t *testing.T) {
	for _, v := range golden(t, "tx_vectors.json", genTxVectors()) {
		t.Run(v.Name, func(t *testing.T) {
			tx := &Tx{
				Kind: TxKind(v.Kind), ChainID: v.ChainID, Nonce: v.Nonce, To: addrFromBytes(mustHex(t, v.To)),
				Amount: Amount(v.Amount), Fee: Amount(v.Fee),
			}
			if len(v.To) != 2*AddressSize {
				t.Fatalf("to is %d hex digits", len(v.To))
			}
			if m := mustHex(t, v.Memo); len(m) > 0 {
				tx.Memo = m
			}
			if tx.Kind == TxTransfer {
				genesis := mustHash(t, v.Genesis)
				SignTx(tx, privKey(t, v.PrivKey), genesis)
				if got := hex.EncodeToString(tx.PubKey[:]); got != v.PubKey {
					t.Errorf("pub key %s, want %s", got, v.PubKey)
				}
				if got := tx.SigHash(genesis).String(); got != v.SigHash {
					t.Errorf("sig hash %s, want %s", got, v.SigHash)
				}
				if got := hex.EncodeToString(tx.Sig[:]); got != v.Sig {
					t.Errorf("sig %s, want %s", got, v.Sig)
				}
				if got := tx.Sender(); hex.EncodeToString(got[:]) != v.Sender {
					t.Errorf("sender %x, want %s", got, v.Sender)
				}
				if err := VerifyTxSig(tx, genesis); err != nil {
					t.Errorf("VerifyTxSig: %v", err)
				}
			} else if v.PrivKey != "" || v.Sig != "" || v.PubKey != "" {
				t.Errorf("coinbase vector carries key material")
			}
			enc := tx.Encode()
			if got := hex.EncodeToString(enc); got != v.Encoding {
				t.Errorf("encoding\n got %s\nwant %s", got, v.Encoding)
			}
			if len(enc) != tx.EncodedSize() {
				t.Errorf("len(Encode()) = %d, EncodedSize() = %d", len(enc), tx.EncodedSize())
			}
			if got := tx.Hash().String(); got != v.Hash {
				t.Errorf("hash %s, want %s", got, v.Hash)
			}
			first := sha256.Sum256(enc)
			if second := sha256.Sum256(first[:]); hex.EncodeToString(second[:]) != v.Hash {
				t.Errorf("hash is not double SHA-256 of the encoding")
			}

			raw := mustHex(t, v.Encoding)
			dec, err := DecodeTx(raw)
			if err != nil {
				t.Fatalf("DecodeTx: %v", err)
			}
			if !reflect.DeepEqual(dec, tx) {
				t.Errorf("decoded %+v\nwant    %+v", dec, tx)
			}
			if !bytes.Equal(dec.Encode(), raw) {
				t.Errorf("encode(decode(b)) != b")
			}
		})
	}
}

// TestTxLayoutByHand spells out the byte layout of two vectors field by
// field, so the golden file is not merely checked against itself.
func TestTxLayoutByHand(t *testing.T) {
	vs := txVectors(t)

	// Transfer: kind, chain id, nonce, recipient, amount, fee, memo length,
	// memo, public key (scalar 1: the generator G), signature.
	v := vs["transfer/layout"]
	enc := mustHex(t, v.Encoding)
	fields := []struct {
		name   string
		offset int
		hex    string
	}{
		{"kind", 0, "00"},
		{"chain id", 1, "01020304"},
		{"nonce", 5, "05060708090a0b0c"},
		{"recipient", 13, "101112131415161718191a1b1c1d1e1f20212223"},
		{"amount", 33, "2425262728292a2b"},
		{"fee", 41, "2c2d2e2f30313233"},
		{"memo length", 49, "0003"},
		{"memo", 51, "343536"},
		{"public key", 54, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
		{"signature", 87, v.Sig},
	}
	end := 0
	for _, f := range fields {
		want := mustHex(t, f.hex)
		if f.offset != end {
			t.Fatalf("field %s at %d follows a field ending at %d", f.name, f.offset, end)
		}
		end = f.offset + len(want)
		if end > len(enc) {
			t.Fatalf("encoding of %d bytes ends inside %s", len(enc), f.name)
		}
		if !bytes.Equal(enc[f.offset:end], want) {
			t.Errorf("%s at [%d:%d] = %x, want %x", f.name, f.offset, end, enc[f.offset:end], want)
		}
	}
	if end != len(enc) || len(enc) != 151 || len(mustHex(t, v.Sig)) != SignatureSize {
		t.Errorf("encoding is %d bytes, fields end at %d, want 151", len(enc), end)
	}
	// The id and the signature hash, computed from the spelled-out bytes.
	h1 := sha256.Sum256(enc)
	if h2 := sha256.Sum256(h1[:]); hex.EncodeToString(h2[:]) != v.Hash {
		t.Errorf("hash %s is not SHA-256(SHA-256(encoding))", v.Hash)
	}
	pre := append([]byte("ledger/tx-signature/v1"), testGenesis[:]...)
	pre = append(pre, enc[:len(enc)-SignatureSize]...)
	if sh := sha256.Sum256(pre); hex.EncodeToString(sh[:]) != v.SigHash {
		t.Errorf("sig hash %s is not SHA-256(tag || genesis || encoding without signature)", v.SigHash)
	}
	// The sender is the first 20 bytes of SHA-256 of the public key.
	pk := sha256.Sum256(enc[54:87])
	if got := hex.EncodeToString(pk[:AddressSize]); got != v.Sender {
		t.Errorf("sender %s, want %s", v.Sender, got)
	}
	tx, _ := vectorTx(t, "transfer/layout")
	if err := VerifyTxSig(tx, testGenesis); err != nil {
		t.Errorf("layout vector does not verify: %v", err)
	}

	// Coinbase: the same fields without public key and signature.
	v = vs["coinbase/layout"]
	want := mustHexStr(t, `01 01020304 05060708090a0b0c 101112131415161718191a1b1c1d1e1f20212223
		2425262728292a2b 0000000000000000 0003 343536`)
	if got := mustHex(t, v.Encoding); !bytes.Equal(got, want) {
		t.Errorf("coinbase encoding\n got %x\nwant %x", got, want)
	}
	h1 = sha256.Sum256(want)
	if h2 := sha256.Sum256(h1[:]); hex.EncodeToString(h2[:]) != v.Hash {
		t.Errorf("coinbase hash %s is not SHA-256(SHA-256(encoding))", v.Hash)
	}

	// Sizes.
	if txFixedSize != 51 || MinTxSize != 51 || MaxTxSize != 51+256+33+64 {
		t.Errorf("txFixedSize=%d MinTxSize=%d MaxTxSize=%d", txFixedSize, MinTxSize, MaxTxSize)
	}
}

func TestTxRoundTrip(t *testing.T) {
	memo := func(n int) []byte {
		if n == 0 {
			return nil
		}
		return seqBytes(byte(n), n)
	}
	var pub [PubKeySize]byte
	copy(pub[:], seqBytes(0x80, PubKeySize))
	var sig [SignatureSize]byte
	copy(sig[:], seqBytes(0xc0, SignatureSize))
	var tests []*Tx
	for _, n := range []int{0, 1, 2, 255, MaxMemoSize} {
		tests = append(tests,
			&Tx{Kind: TxTransfer, ChainID: 9, Nonce: uint64(n), To: testAddr(1), Amount: 5, Fee: 1, Memo: memo(n), PubKey: pub, Sig: sig},
			&Tx{Kind: TxCoinbase, ChainID: 9, Nonce: uint64(n), To: testAddr(2), Amount: 50 * Coin, Memo: memo(n)},
		)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		tests = append(tests, randomTx(rng))
	}
	for i, tx := range tests {
		enc := tx.Encode()
		if len(enc) != tx.EncodedSize() {
			t.Fatalf("%d: len(Encode()) = %d, EncodedSize() = %d", i, len(enc), tx.EncodedSize())
		}
		wantLen := MinTxSize + len(tx.Memo)
		if !tx.IsCoinbase() {
			wantLen += PubKeySize + SignatureSize
		}
		if len(enc) != wantLen {
			t.Fatalf("%d: encoding is %d bytes, want %d", i, len(enc), wantLen)
		}
		dec, err := DecodeTx(enc)
		if err != nil {
			t.Fatalf("%d: DecodeTx: %v", i, err)
		}
		if !reflect.DeepEqual(dec, tx) {
			t.Fatalf("%d: decode(encode(x)) != x\n got %+v\nwant %+v", i, dec, tx)
		}
		if !bytes.Equal(dec.Encode(), enc) {
			t.Fatalf("%d: encode(decode(b)) != b", i)
		}
		if dec.Hash() != tx.Hash() || tx.Hash() != DoubleSHA256(enc) {
			t.Fatalf("%d: hash differs", i)
		}
		// AppendEncode keeps what is already in the buffer.
		prefix := []byte("prefix")
		if got := tx.AppendEncode(prefix); !bytes.Equal(got[:6], []byte("prefix")) || !bytes.Equal(got[6:], enc) {
			t.Fatalf("%d: AppendEncode does not append", i)
		}
	}
}

// randomTx returns a transaction with random fields that the decoder
// accepts: an empty memo is nil, a coinbase has no key or signature.
func randomTx(rng *rand.Rand) *Tx {
	tx := &Tx{
		Kind: TxKind(rng.IntN(2)), ChainID: rng.Uint32(), Nonce: rng.Uint64(),
		Amount: Amount(rng.Uint64()), Fee: Amount(rng.Uint64()),
	}
	fill(rng, tx.To[:])
	if n := rng.IntN(MaxMemoSize + 1); n > 0 && rng.IntN(4) > 0 {
		tx.Memo = make([]byte, n)
		fill(rng, tx.Memo)
	}
	if tx.Kind == TxTransfer {
		fill(rng, tx.PubKey[:])
		fill(rng, tx.Sig[:])
	}
	return tx
}

func privKey(t testing.TB, s string) *secp256k1.PrivateKey {
	t.Helper()
	b := mustHex(t, s)
	if len(b) != 32 {
		t.Fatalf("private key %q is not 32 bytes", s)
	}
	return secp256k1.PrivKeyFromBytes(b)
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// An empty memo decodes as nil: the two have one encoding.
func TestTxEmptyMemo(t *testing.T) {
	a := &Tx{Kind: TxCoinbase, Memo: []byte{}}
	b := &Tx{Kind: TxCoinbase}
	if !bytes.Equal(a.Encode(), b.Encode()) || a.Hash() != b.Hash() {
		t.Fatal("empty and nil memo encode differently")
	}
	dec, err := DecodeTx(a.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if dec.Memo != nil {
		t.Errorf("decoded empty memo is %#v, want nil", dec.Memo)
	}
}

// A coinbase's key and signature fields are not part of it: they are not
// encoded, hashed, or decoded.
func TestCoinbaseCarriesNoKey(t *testing.T) {
	cb, enc := vectorTx(t, "coinbase/memo")
	if len(enc) != MinTxSize+len(cb.Memo) {
		t.Fatalf("coinbase encoding is %d bytes", len(enc))
	}
	if cb.PubKey != [PubKeySize]byte{} || cb.Sig != [SignatureSize]byte{} {
		t.Error("decoded coinbase has key material")
	}
	if cb.Sender() != (Address{}) {
		t.Errorf("coinbase sender %x, want zero", cb.Sender())
	}
	if !cb.IsCoinbase() {
		t.Error("IsCoinbase() = false")
	}
	junk := *cb
	junk.PubKey[0], junk.Sig[0] = 2, 1
	if !bytes.Equal(junk.Encode(), enc) || junk.Hash() != cb.Hash() {
		t.Error("a coinbase's PubKey or Sig field changes its encoding")
	}
	tr, _ := vectorTx(t, "transfer/memo")
	if tr.IsCoinbase() {
		t.Error("transfer IsCoinbase() = true")
	}
}

func TestDecodeTxTruncated(t *testing.T) {
	for name, v := range txVectors(t) {
		enc := mustHex(t, v.Encoding)
		for n := range len(enc) {
			_, err := DecodeTx(enc[:n])
			if kindOf(err) != ErrShortInput {
				t.Fatalf("%s cut to %d of %d bytes: %v, want ErrShortInput", name, n, len(enc), err)
			}
		}
		wantKind(t, func() error { _, err := DecodeTx(enc[:len(enc)-1]); return err }(), ErrShortInput)
	}
}

func TestDecodeTxErrors(t *testing.T) {
	_, transfer := vectorTx(t, "transfer/memo") // memo of 13 bytes
	_, coinbase := vectorTx(t, "coinbase/no-memo")
	_, cbMax := vectorTx(t, "coinbase/memo-max")

	// with returns a copy of b with the bytes at off replaced.
	with := func(b []byte, off int, repl ...byte) []byte {
		out := bytes.Clone(b)
		copy(out[off:], repl)
		return out
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	const memoLenAt = 49

	tests := []struct {
		name string
		in   []byte
		want ErrorKind
	}{
		{"empty", nil, ErrShortInput},
		{"kind only", []byte{0}, ErrShortInput},
		{"fixed part but memo", coinbase[:memoLenAt+1], ErrShortInput},
		{"transfer without signature", transfer[:len(transfer)-SignatureSize], ErrShortInput},
		{"transfer plus one byte", cat(transfer, []byte{0}), ErrTrailingBytes},
		{"coinbase plus one byte", cat(coinbase, []byte{0}), ErrTrailingBytes},
		{"two coinbases", cat(coinbase, coinbase), ErrTrailingBytes},
		{"transfer relabelled coinbase", with(transfer, 0, 1), ErrTrailingBytes},
		{"coinbase relabelled transfer", with(coinbase, 0, 0), ErrShortInput},
		{"coinbase with key and signature bytes", cat(coinbase, make([]byte, PubKeySize+SignatureSize)), ErrTrailingBytes},
		{"memo length 257, memo present", cat(with(cbMax, memoLenAt, 0x01, 0x01), []byte{0xff}), ErrOverLimit},
		{"memo length 257, nothing follows", with(cbMax, memoLenAt, 0x01, 0x01)[:MinTxSize], ErrOverLimit},
		{"memo length 0xffff", with(transfer, memoLenAt, 0xff, 0xff), ErrOverLimit},
		{"memo length 0x8000 on a transfer", with(transfer, memoLenAt, 0x80, 0x00), ErrOverLimit},
		{"memo one longer than the bytes", with(transfer, memoLenAt, 0x00, 14), ErrShortInput},
		{"memo one shorter than the bytes", with(transfer, memoLenAt, 0x00, 12), ErrTrailingBytes},
		{"kind 2", with(transfer, 0, 2), ErrUnknownTxKind},
		{"kind 0xff", with(coinbase, 0, 0xff), ErrUnknownTxKind},
		{"kind 2 alone", []byte{2}, ErrUnknownTxKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := DecodeTx(tt.in)
			if tx != nil {
				t.Errorf("DecodeTx returned a transaction with error %v", err)
			}
			wantKind(t, err, tt.want)
		})
	}

	// Every kind byte but 0 and 1 is refused before anything else is read.
	for k := 2; k < 256; k++ {
		for _, in := range [][]byte{with(transfer, 0, byte(k)), with(coinbase, 0, byte(k)), {byte(k)}} {
			if _, err := DecodeTx(in); kindOf(err) != ErrUnknownTxKind {
				t.Fatalf("kind %d: %v, want ErrUnknownTxKind", k, err)
			}
		}
	}
	// Every memo length above the limit is refused with ErrOverLimit, even
	// when enough bytes follow.
	big := cat(with(cbMax, memoLenAt, 0, 0), make([]byte, math.MaxUint16+PubKeySize+SignatureSize))
	for n := MaxMemoSize + 1; n <= math.MaxUint16; n++ {
		big[memoLenAt], big[memoLenAt+1] = byte(n>>8), byte(n)
		if _, err := DecodeTx(big); kindOf(err) != ErrOverLimit {
			t.Fatalf("memo length %d: %v, want ErrOverLimit", n, err)
		}
	}
}

// The encoder does not police the memo limit; the decoder refuses what it
// writes for an oversized memo, so such a value never enters through a
// decoder.
func TestEncodeOversizedMemoIsRefused(t *testing.T) {
	for _, kind := range []TxKind{TxTransfer, TxCoinbase} {
		tx := &Tx{Kind: kind, Memo: make([]byte, MaxMemoSize+1)}
		_, err := DecodeTx(tx.Encode())
		wantKind(t, err, ErrOverLimit)
	}
}
