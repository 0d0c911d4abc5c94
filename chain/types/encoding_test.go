package types

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// update rewrites the golden files under testdata/ from the generators in
// tx_test.go, header_test.go and block_test.go:
//
//	go test ./chain/types -run Golden -update
//
// Review the diff before checking it in: a changed vector is a changed
// consensus format.
var update = flag.Bool("update", false, "rewrite the golden vector files in testdata/")

// allKinds lists every ErrorKind, so that tests can check that an error
// matches its kind and no other.
var allKinds = []ErrorKind{
	ErrShortInput, ErrTrailingBytes, ErrOverLimit, ErrNonCanonical, ErrUnknownTxKind,
	ErrBadPubKey, ErrBadSignature, ErrHighS, ErrBadAddress, ErrBadAmount,
}

// decodeKinds are the kinds a decoder may return.
var decodeKinds = []ErrorKind{ErrShortInput, ErrTrailingBytes, ErrOverLimit, ErrUnknownTxKind}

// wantKind fails unless err is an *Error of exactly the given kind, matched
// both by errors.Is and by errors.As, and matches no other kind.
func wantKind(t testing.TB, err error, want ErrorKind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *types.Error", err, err)
	}
	if e.Kind != want {
		t.Fatalf("error kind %s (%q), want %s", e.Kind, e.Description, want)
	}
	for _, k := range allKinds {
		if got := errors.Is(err, k); got != (k == want) {
			t.Fatalf("errors.Is(%v, %s) = %v", err, k, got)
		}
	}
	if e.Description == "" {
		t.Fatalf("%s error has an empty description", want)
	}
}

// kindOf returns the kind of an *Error, or "" for nil or any other error.
func kindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// wantOneOf fails unless err is an *Error whose kind is one of kinds.
func wantOneOf(t testing.TB, err error, kinds ...ErrorKind) {
	t.Helper()
	k := kindOf(err)
	for _, want := range kinds {
		if k == want {
			return
		}
	}
	t.Fatalf("error %v (kind %q), want one of %v", err, k, kinds)
}

// Fixtures shared by the vectors, the tests and the benchmarks.

// testKey returns the private key whose scalar is n.
func testKey(n byte) *secp256k1.PrivateKey {
	var b [32]byte
	b[31] = n
	return secp256k1.PrivKeyFromBytes(b[:])
}

// testGenesis stands for a network's genesis hash.
var testGenesis = DoubleSHA256([]byte("ledger/test/genesis"))

// otherGenesis stands for another network's genesis hash.
var otherGenesis = DoubleSHA256([]byte("ledger/test/other-genesis"))

func testAddr(n byte) Address {
	var pub [PubKeySize]byte
	copy(pub[:], testKey(n).PubKey().SerializeCompressed())
	return AddressFromPubKey(&pub)
}

// seqBytes returns n bytes counting up from first (wrapping).
func seqBytes(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

func seqHash(first byte) (h Hash) {
	copy(h[:], seqBytes(first, HashSize))
	return h
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// mustHexStr decodes hex written with spaces for readability.
func mustHexStr(t testing.TB, s string) []byte {
	t.Helper()
	return mustHex(t, strings.Join(strings.Fields(s), ""))
}

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatalf("ParseHash(%q): %v", s, err)
	}
	return h
}

// golden compares the vectors in testdata/name with want, the generator's
// output, and rewrites the file under -update. It returns the file's
// entries decoded into a fresh value of the same type, for the caller's
// independent checks.
func golden[T any](t *testing.T, name string, want []T) []T {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s (%d vectors)", path, len(want))
	}
	got := loadVectors[T](t, name)
	if len(got) != len(want) {
		t.Fatalf("%s holds %d vectors, the generator makes %d (run with -update?)", path, len(got), len(want))
	}
	for i := range want {
		wb, _ := json.Marshal(want[i])
		gb, _ := json.Marshal(got[i])
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s vector %d differs from the generator (run with -update and review):\nfile: %s\ngen:  %s", path, i, gb, wb)
		}
	}
	return got
}

func loadVectors[T any](t testing.TB, name string) []T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v []T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	if len(v) == 0 {
		t.Fatalf("testdata/%s holds no vectors", name)
	}
	return v
}

func TestErrorKindMatching(t *testing.T) {
	err := error(errorf(ErrOverLimit, "memo of %d bytes exceeds %d", 300, MaxMemoSize))
	wantKind(t, err, ErrOverLimit)
	if got := err.Error(); got != "memo of 300 bytes exceeds 256" {
		t.Errorf("Error() = %q", got)
	}
	if got := ErrOverLimit.Error(); got != "ErrOverLimit" {
		t.Errorf("ErrOverLimit.Error() = %q", got)
	}
	// A kind wrapped further still matches.
	wrapped := errors.Join(errors.New("while reading block 7"), err)
	if !errors.Is(wrapped, ErrOverLimit) || errors.Is(wrapped, ErrShortInput) {
		t.Errorf("wrapped error: Is(ErrOverLimit)=%v Is(ErrShortInput)=%v",
			errors.Is(wrapped, ErrOverLimit), errors.Is(wrapped, ErrShortInput))
	}
	// Kinds are distinct values.
	seen := map[ErrorKind]bool{}
	for _, k := range allKinds {
		if seen[k] {
			t.Errorf("duplicate kind %s", k)
		}
		seen[k] = true
	}
}

func TestReader(t *testing.T) {
	r := reader{buf: mustHexStr(t, "01 0203 04050607 08090a0b0c0d0e0f 1011")}
	if got := r.u8("a"); got != 0x01 {
		t.Errorf("u8 = %#x", got)
	}
	if got := r.u16("b"); got != 0x0203 {
		t.Errorf("u16 = %#x", got)
	}
	if got := r.u32("c"); got != 0x04050607 {
		t.Errorf("u32 = %#x", got)
	}
	if got := r.u64("d"); got != 0x08090a0b0c0d0e0f {
		t.Errorf("u64 = %#x", got)
	}
	wantKind(t, r.finish("x"), ErrTrailingBytes)
	var two [2]byte
	r.bytes(two[:], "e")
	if two != [2]byte{0x10, 0x11} {
		t.Errorf("bytes = %x", two)
	}
	if err := r.finish("x"); err != nil {
		t.Errorf("finish at end: %v", err)
	}
	// The first failure sticks: later reads return zero and the error
	// names the first field that was short.
	if got := r.u32("first short"); got != 0 {
		t.Errorf("short u32 = %#x", got)
	}
	if got := r.u8("second"); got != 0 {
		t.Errorf("read after failure = %#x", got)
	}
	wantKind(t, r.finish("x"), ErrShortInput)
	if !strings.Contains(r.err.Error(), "first short") {
		t.Errorf("sticky error %q does not name the first short field", r.err)
	}
	// A failed read consumes nothing.
	r2 := reader{buf: []byte{1, 2, 3}}
	r2.u32("u32")
	if len(r2.buf) != 3 {
		t.Errorf("failed read consumed input: %d left", len(r2.buf))
	}
}
