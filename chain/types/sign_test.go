package types

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// The secp256k1 group order N and N/2 (rounded down), the largest low S.
var (
	curveN     = mustBig("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	curveHalfN = new(big.Int).Rsh(curveN, 1)
)

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return n
}

func scalar32(n *big.Int) (b [32]byte) {
	n.FillBytes(b[:])
	return b
}

// signedTransfer returns a fresh transfer signed with key 1 for testGenesis.
func signedTransfer(t testing.TB) *Tx {
	t.Helper()
	tx := &Tx{Kind: TxTransfer, ChainID: 1, Nonce: 3, To: testAddr(2), Amount: 7 * Coin, Fee: 100, Memo: []byte("rent")}
	SignTx(tx, testKey(1), testGenesis)
	if err := VerifyTxSig(tx, testGenesis); err != nil {
		t.Fatalf("fresh signature does not verify: %v", err)
	}
	return tx
}

func TestSignVerify(t *testing.T) {
	tx := signedTransfer(t)
	var want [PubKeySize]byte
	copy(want[:], testKey(1).PubKey().SerializeCompressed())
	if tx.PubKey != want {
		t.Errorf("SignTx set PubKey %x, want %x", tx.PubKey, want)
	}
	if tx.Sender() != AddressFromPubKey(&want) || tx.Sender() != testAddr(1) {
		t.Errorf("Sender %x is not the signer's address", tx.Sender())
	}
	// The signature survives encoding.
	dec, err := DecodeTx(tx.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyTxSig(dec, testGenesis); err != nil {
		t.Errorf("decoded transfer: %v", err)
	}
	// Another network's genesis hash: the signature does not carry over.
	wantKind(t, VerifyTxSig(dec, otherGenesis), ErrBadSignature)
	wantKind(t, VerifyTxSig(dec, ZeroHash), ErrBadSignature)
	// The id covers the signature; the signature hash does not.
	other := *tx
	SignTx(&other, testKey(2), testGenesis)
	if other.Hash() == tx.Hash() {
		t.Error("re-signing with another key kept the id")
	}
	if err := VerifyTxSig(&other, testGenesis); err != nil {
		t.Errorf("key 2: %v", err)
	}
	if other.Sender() != testAddr(2) {
		t.Error("sender did not follow the key")
	}
	// A signature hash depends on the public key, so one signature cannot
	// be moved to another key.
	swapped := other
	swapped.Sig = tx.Sig
	wantKind(t, VerifyTxSig(&swapped, testGenesis), ErrBadSignature)
}

func TestSigHashByHand(t *testing.T) {
	tx := signedTransfer(t)
	enc := tx.Encode()
	pre := append([]byte("ledger/tx-signature/v1"), testGenesis[:]...)
	pre = append(pre, enc[:len(enc)-SignatureSize]...)
	if got, want := tx.SigHash(testGenesis), Hash(sha256Sum(pre)); got != want {
		t.Errorf("SigHash %s, want %s", got, want)
	}
	// The signature itself is not covered.
	s2 := *tx
	s2.Sig[0] ^= 1
	if s2.SigHash(testGenesis) != tx.SigHash(testGenesis) {
		t.Error("SigHash depends on the signature")
	}
}

// TestSignDeterministic: RFC 6979 signatures are a function of key and
// message, and always low-S.
func TestSignDeterministic(t *testing.T) {
	a := signedTransfer(t)
	b := signedTransfer(t)
	if a.Sig != b.Sig {
		t.Fatalf("two signatures of one transaction differ:\n%x\n%x", a.Sig, b.Sig)
	}
	c := *a
	SignTx(&c, testKey(1), testGenesis)
	if c.Sig != a.Sig {
		t.Error("re-signing changed the signature")
	}
	c.Nonce++
	SignTx(&c, testKey(1), testGenesis)
	if c.Sig == a.Sig {
		t.Error("another nonce gave the same signature")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 64 {
		tx := randomTx(rng)
		tx.Kind = TxTransfer
		SignTx(tx, testKey(byte(i%3+1)), testGenesis)
		s := new(big.Int).SetBytes(tx.Sig[32:])
		if s.Sign() == 0 || s.Cmp(curveHalfN) > 0 {
			t.Fatalf("%d: SignTx made s = %x, not in [1, N/2]", i, tx.Sig[32:])
		}
		if err := VerifyTxSig(tx, testGenesis); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
}

// TestVerifyFlippedBytes flips each bit 0 and bit 7 of every byte of a
// signed transfer's encoding: each flip makes the decoder refuse the bytes
// or the signature fail to verify, with the expected kind per field.
func TestVerifyFlippedBytes(t *testing.T) {
	tx := signedTransfer(t)
	enc := tx.Encode()
	m := len(tx.Memo)
	fields := []struct {
		name       string
		start, end int
	}{
		{"kind", 0, 1}, {"chain id", 1, 5}, {"nonce", 5, 13}, {"recipient", 13, 33},
		{"amount", 33, 41}, {"fee", 41, 49}, {"memo length", 49, 51}, {"memo", 51, 51 + m},
		{"public key", 51 + m, 84 + m}, {"signature r", 84 + m, 116 + m}, {"signature s", 116 + m, 148 + m},
	}
	if fields[len(fields)-1].end != len(enc) {
		t.Fatalf("field table covers %d of %d bytes", fields[len(fields)-1].end, len(enc))
	}
	for _, f := range fields {
		for i := f.start; i < f.end; i++ {
			for _, mask := range []byte{0x01, 0x80} {
				b := bytes.Clone(enc)
				b[i] ^= mask
				dec, err := DecodeTx(b)
				switch f.name {
				case "kind":
					// 0 -> 1 makes a coinbase, which ends before the key;
					// 0 -> 0x80 is no kind at all.
					want := map[byte]ErrorKind{0x01: ErrTrailingBytes, 0x80: ErrUnknownTxKind}[mask]
					wantKind(t, err, want)
					continue
				case "memo length":
					n := int(b[49])<<8 | int(b[50])
					switch {
					case n > MaxMemoSize:
						wantKind(t, err, ErrOverLimit)
					case n > m:
						wantKind(t, err, ErrShortInput)
					default:
						wantKind(t, err, ErrTrailingBytes)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s byte %d ^ %#x: decode: %v", f.name, i, mask, err)
				}
				if dec.Hash() == tx.Hash() {
					t.Fatalf("%s byte %d ^ %#x: id unchanged", f.name, i, mask)
				}
				err = VerifyTxSig(dec, testGenesis)
				switch f.name {
				case "public key":
					// Another x may be off the curve; 0x03 for 0x02 is the
					// negated point, a valid key that did not sign.
					wantOneOf(t, err, ErrBadPubKey, ErrBadSignature)
					if i == f.start && mask == 0x01 {
						wantKind(t, err, ErrBadSignature)
					}
					if i == f.start && mask == 0x80 {
						wantKind(t, err, ErrBadPubKey)
					}
				case "signature s":
					// A changed s may land in the upper half.
					wantOneOf(t, err, ErrHighS, ErrBadSignature)
					if i == f.start && mask == 0x80 {
						wantKind(t, err, ErrHighS)
					}
				default:
					wantKind(t, err, ErrBadSignature)
				}
			}
		}
	}
}

// TestHighS: (r, N-s) is the other valid signature of the same message.
// The secp256k1 library accepts it; ParseSignature and VerifyTxSig refuse
// it with ErrHighS, which is what keeps a transaction's id fixed.
func TestHighS(t *testing.T) {
	tx := signedTransfer(t)
	var r, s secp256k1.ModNScalar
	if r.SetByteSlice(tx.Sig[:32]) || s.SetByteSlice(tx.Sig[32:]) {
		t.Fatal("signature out of range")
	}
	if s.IsOverHalfOrder() {
		t.Fatal("SignTx made a high-S signature")
	}
	highS := s
	highS.Negate()
	if !highS.IsOverHalfOrder() {
		t.Fatal("N-s is not high")
	}
	high := *tx
	sb := highS.Bytes()
	copy(high.Sig[32:], sb[:])
	if high.Hash() == tx.Hash() {
		t.Fatal("malleated signature kept the id")
	}

	// The library: the high-S twin verifies.
	pub, err := secp256k1.ParsePubKey(tx.PubKey[:])
	if err != nil {
		t.Fatal(err)
	}
	digest := tx.SigHash(testGenesis)
	if !ecdsa.NewSignature(&r, &highS).Verify(digest[:], pub) {
		t.Fatal("the library refuses the high-S twin; the low-S rule would be redundant")
	}
	if !ecdsa.NewSignature(&r, &s).Verify(digest[:], pub) {
		t.Fatal("the library refuses the low-S original")
	}

	// This package: refused, with exactly ErrHighS.
	_, err = ParseSignature(&high.Sig)
	wantKind(t, err, ErrHighS)
	wantKind(t, VerifyTxSig(&high, testGenesis), ErrHighS)
	dec, err := DecodeTx(high.Encode())
	if err != nil {
		t.Fatalf("the decoder does not check signatures: %v", err)
	}
	wantKind(t, VerifyTxSig(dec, testGenesis), ErrHighS)
}

func TestParseSignatureRange(t *testing.T) {
	one := big.NewInt(1)
	sub := func(a, b *big.Int) *big.Int { return new(big.Int).Sub(a, b) }
	add := func(a, b *big.Int) *big.Int { return new(big.Int).Add(a, b) }
	max256 := sub(new(big.Int).Lsh(one, 256), one)
	tests := []struct {
		name string
		r, s *big.Int
		want ErrorKind // "" for success
	}{
		{"r=1 s=1", one, one, ""},
		{"r=N-1 s=N/2", sub(curveN, one), curveHalfN, ""},
		{"r=0", big.NewInt(0), one, ErrBadSignature},
		{"s=0", one, big.NewInt(0), ErrBadSignature},
		{"r=s=0", big.NewInt(0), big.NewInt(0), ErrBadSignature},
		{"r=N", curveN, one, ErrBadSignature},
		{"r=N+1", add(curveN, one), one, ErrBadSignature},
		{"r=2^256-1", max256, one, ErrBadSignature},
		{"s=N", one, curveN, ErrBadSignature},
		{"s=2^256-1", one, max256, ErrBadSignature},
		{"s=N/2+1", one, add(curveHalfN, one), ErrHighS},
		{"s=N-1", one, sub(curveN, one), ErrHighS},
		{"s=2^255", one, new(big.Int).Lsh(one, 255), ErrHighS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sig [SignatureSize]byte
			rb, sb := scalar32(tt.r), scalar32(tt.s)
			copy(sig[:32], rb[:])
			copy(sig[32:], sb[:])
			got, err := ParseSignature(&sig)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				gr, gs := got.R(), got.S()
				if gr.Bytes() != rb || gs.Bytes() != sb {
					t.Errorf("parsed (%x, %x)", gr.Bytes(), gs.Bytes())
				}
				return
			}
			if got != nil {
				t.Error("got a signature with an error")
			}
			wantKind(t, err, tt.want)
		})
	}
}

// Out-of-range r or s on an otherwise valid transfer fail verification with
// ErrBadSignature.
func TestVerifyBadSignatureValues(t *testing.T) {
	tx := signedTransfer(t)
	nb := scalar32(curveN)
	cases := map[string]func(sig *[SignatureSize]byte){
		"r=0":      func(sig *[SignatureSize]byte) { clear(sig[:32]) },
		"s=0":      func(sig *[SignatureSize]byte) { clear(sig[32:]) },
		"r=N":      func(sig *[SignatureSize]byte) { copy(sig[:32], nb[:]) },
		"s=N":      func(sig *[SignatureSize]byte) { copy(sig[32:], nb[:]) },
		"all 0xff": func(sig *[SignatureSize]byte) { copy(sig[:], bytes.Repeat([]byte{0xff}, SignatureSize)) },
		"zero":     func(sig *[SignatureSize]byte) { *sig = [SignatureSize]byte{} },
		"r<->s": func(sig *[SignatureSize]byte) {
			var r [32]byte
			copy(r[:], sig[:32])
			copy(sig[:32], sig[32:])
			copy(sig[32:], r[:])
		},
	}
	for name, f := range cases {
		bad := *tx
		f(&bad.Sig)
		err := VerifyTxSig(&bad, testGenesis)
		if name == "r<->s" {
			// the old r may be high as an s
			wantOneOf(t, err, ErrBadSignature, ErrHighS)
			continue
		}
		wantKind(t, err, ErrBadSignature)
	}
}

func TestVerifyBadPubKey(t *testing.T) {
	tx := signedTransfer(t)
	for _, prefix := range []byte{0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0x12, 0xff} {
		bad := *tx
		bad.PubKey[0] = prefix
		wantKind(t, VerifyTxSig(&bad, testGenesis), ErrBadPubKey)
	}
	// x not below the field prime.
	bad := *tx
	copy(bad.PubKey[1:], bytes.Repeat([]byte{0xff}, 32))
	wantKind(t, VerifyTxSig(&bad, testGenesis), ErrBadPubKey)
	// An x with no point on the curve (found by trial: half of all x).
	found := false
	for x := byte(1); x < 64 && !found; x++ {
		var pk [PubKeySize]byte
		pk[0], pk[32] = 0x02, x
		if _, err := secp256k1.ParsePubKey(pk[:]); err == nil {
			continue
		}
		found = true
		bad := *tx
		bad.PubKey = pk
		wantKind(t, VerifyTxSig(&bad, testGenesis), ErrBadPubKey)
	}
	if !found {
		t.Fatal("no off-curve x below 64")
	}
	// The zero key.
	bad = *tx
	bad.PubKey = [PubKeySize]byte{}
	wantKind(t, VerifyTxSig(&bad, testGenesis), ErrBadPubKey)
}

func TestVerifyCoinbase(t *testing.T) {
	cb, _ := vectorTx(t, "coinbase/memo")
	wantKind(t, VerifyTxSig(cb, testGenesis), ErrBadSignature)
	// Even with a transfer's key and signature copied in.
	tr := signedTransfer(t)
	cb.PubKey, cb.Sig = tr.PubKey, tr.Sig
	wantKind(t, VerifyTxSig(cb, testGenesis), ErrBadSignature)
}
