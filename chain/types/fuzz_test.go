package types

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// The fuzz targets are seeded from the golden vectors and from the corpus
// files under testdata/fuzz/<target>/. Each checks that the decoder does not
// panic, that its errors are *Error values of a decoding kind, and that an
// accepted input is canonical: encode(decode(b)) == b, and decoding again
// gives the same value.

func wantDecodeError(t *testing.T, err error) {
	t.Helper()
	wantOneOf(t, err, decodeKinds...)
}

func FuzzDecodeTx(f *testing.F) {
	for _, v := range txVectors(f) {
		f.Add(mustHex(f, v.Encoding))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			if tx != nil {
				t.Fatal("transaction returned with an error")
			}
			wantDecodeError(t, err)
			return
		}
		enc := tx.Encode()
		if !bytes.Equal(enc, b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, enc)
		}
		if tx.EncodedSize() != len(b) || len(tx.Memo) > MaxMemoSize || (tx.Memo != nil && len(tx.Memo) == 0) {
			t.Fatalf("decoded %+v from %d bytes", tx, len(b))
		}
		again, err := DecodeTx(enc)
		if err != nil || !reflect.DeepEqual(again, tx) {
			t.Fatalf("decode(encode(decode(b))) = %+v, %v", again, err)
		}
		if tx.Hash() != DoubleSHA256(b) {
			t.Fatal("hash is not the hash of the bytes")
		}
		// Signature checking must not panic on any decoded bytes.
		_ = VerifyTxSig(tx, testGenesis)
	})
}

func FuzzDecodeHeader(f *testing.F) {
	for _, v := range loadVectors[headerVector](f, "header_vectors.json") {
		f.Add(mustHex(f, v.Encoding))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHeader(b)
		if err != nil {
			if h != nil || len(b) == HeaderSize {
				t.Fatalf("%d bytes: %v", len(b), err)
			}
			wantDecodeError(t, err)
			return
		}
		enc := h.Encode()
		if !bytes.Equal(enc[:], b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, enc)
		}
		again, err := DecodeHeader(enc[:])
		if err != nil || *again != *h {
			t.Fatalf("decode(encode(decode(b))) = %+v, %v", again, err)
		}
		if h.Hash() != DoubleSHA256(b) {
			t.Fatal("hash is not the hash of the bytes")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	for _, v := range blockVectors(f) {
		f.Add(mustHex(f, v.Encoding))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlock(b)
		if err != nil {
			if blk != nil {
				t.Fatal("block returned with an error")
			}
			wantDecodeError(t, err)
			return
		}
		enc := blk.Encode()
		if !bytes.Equal(enc, b) || blk.EncodedSize() != len(b) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, enc)
		}
		again, err := DecodeBlock(enc)
		if err != nil || !reflect.DeepEqual(again, blk) {
			t.Fatalf("decode(encode(decode(b))) = %+v, %v", again, err)
		}
		// Each transaction, cut out of the block, decodes on its own.
		for i, tx := range blk.Txs {
			if _, err := DecodeTx(tx.Encode()); err != nil {
				t.Fatalf("tx %d: %v", i, err)
			}
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, v := range bip173Valid {
		f.Add(v.s, v.hrp)
	}
	for _, v := range bip173Invalid {
		f.Add(v.s, "lg")
	}
	f.Add(testAddr(1).Bech32("lg"), "lg")
	f.Add(strings.ToUpper(testAddr(2).Bech32("tlg")), "tlg")
	f.Add(testAddr(3).Bech32("tlg"), "lg")
	f.Fuzz(func(t *testing.T, s, hrp string) {
		a, err := ParseAddress(s, hrp)
		if err != nil {
			if a != (Address{}) {
				t.Fatal("address returned with an error")
			}
			wantKind(t, err, ErrBadAddress)
			return
		}
		// Accepted: s is the canonical rendering, up to case.
		if got := a.Bech32(hrp); got != strings.ToLower(s) {
			t.Fatalf("ParseAddress(%q, %q) = %x, which renders as %q", s, hrp, a, got)
		}
		if back, err := ParseAddress(a.Bech32(hrp), hrp); err != nil || back != a {
			t.Fatalf("round trip: %x, %v", back, err)
		}
	})
}

func FuzzParseCoins(f *testing.F) {
	for _, s := range []string{
		"1", "0.5", "12.00000001", "184467440737.09551615", "184467440737.09551616", "1.000000001",
		"-1", "+1", "1e8", ".5", "5.", "", " 1", "0x10", "007.10", strings.Repeat("9", 41),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseCoins(s)
		want, ok := coinsSpec(s)
		if ok != (err == nil) || a != want {
			t.Fatalf("ParseCoins(%q) = %d, %v; spec says %d, %v", s, a, err, want, ok)
		}
		if err != nil {
			wantKind(t, err, ErrBadAmount)
			return
		}
		if back, err := ParseCoins(a.String()); err != nil || back != a {
			t.Fatalf("ParseCoins(%q) = %d, %v", a.String(), back, err)
		}
	})
}
