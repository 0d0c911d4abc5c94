package types

import (
	"math/rand/v2"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// benchTransfer is a signed transfer with a short memo.
func benchTransfer(b *testing.B) *Tx {
	b.Helper()
	tx := &Tx{Kind: TxTransfer, ChainID: 1, Nonce: 42, To: testAddr(2), Amount: 3 * Coin, Fee: 1000, Memo: []byte("invoice 17")}
	SignTx(tx, testKey(1), testGenesis)
	return tx
}

var (
	sinkBytes []byte
	sinkTx    *Tx
	sinkHash  Hash
	sinkErr   error
	sinkBool  bool
	sinkPub   *secp256k1.PublicKey
)

func BenchmarkTxEncode(b *testing.B) {
	tx := benchTransfer(b)
	buf := make([]byte, 0, MaxTxSize)
	b.ReportAllocs()
	for b.Loop() {
		sinkBytes = tx.AppendEncode(buf[:0])
	}
}

func BenchmarkTxDecode(b *testing.B) {
	enc := benchTransfer(b).Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		sinkTx, sinkErr = DecodeTx(enc)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

func BenchmarkTxHash(b *testing.B) {
	tx := benchTransfer(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkHash = tx.Hash()
	}
}

func BenchmarkSigHash(b *testing.B) {
	tx := benchTransfer(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkHash = tx.SigHash(testGenesis)
	}
}

func BenchmarkVerifyTxSig(b *testing.B) {
	tx := benchTransfer(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = VerifyTxSig(tx, testGenesis)
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

// BenchmarkRawVerify is the floor VerifyTxSig is measured against: one
// ECDSA verification with the public key and signature already parsed.
func BenchmarkRawVerify(b *testing.B) {
	tx := benchTransfer(b)
	pub, err := secp256k1.ParsePubKey(tx.PubKey[:])
	if err != nil {
		b.Fatal(err)
	}
	var r, s secp256k1.ModNScalar
	r.SetByteSlice(tx.Sig[:32])
	s.SetByteSlice(tx.Sig[32:])
	sig := ecdsa.NewSignature(&r, &s)
	digest := tx.SigHash(testGenesis)
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = sig.Verify(digest[:], pub)
	}
	if !sinkBool {
		b.Fatal("does not verify")
	}
}

func BenchmarkParsePubKey(b *testing.B) {
	tx := benchTransfer(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkPub, sinkErr = secp256k1.ParsePubKey(tx.PubKey[:])
	}
	if sinkErr != nil {
		b.Fatal(sinkErr)
	}
}

func BenchmarkHeaderHash(b *testing.B) {
	h := randomHeader(rand.New(rand.NewPCG(1, 1)))
	b.ReportAllocs()
	for b.Loop() {
		h.Nonce++
		sinkHash = h.Hash()
	}
}

func BenchmarkMerkleRoot1000(b *testing.B) {
	ids := randomIDs(rand.New(rand.NewPCG(2, 2)), 1000)
	b.ReportAllocs()
	for b.Loop() {
		sinkHash = MerkleRoot(ids)
	}
}
