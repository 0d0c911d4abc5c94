package genesis_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	ledger "github.com/ledger-node/ledger"
	"github.com/ledger-node/ledger/chain/genesis"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
	"github.com/ledger-node/ledger/internal/chaingen"
)

var gtUpdateGolden = flag.Bool("genesis.update-golden", false, "rewrite testdata/*.hash from the current code")

const gtHRP = "ltest"

// gtAddr is the address of test key i.
func gtAddr(i int) types.Address { return chaingen.AddrOf(chaingen.Key("genesis-test", i)) }

// gtBase is a valid genesis file with three allocations.
func gtBase() genesis.File {
	return genesis.File{
		Network: "gtest", ChainID: 42, AddressPrefix: gtHRP, Timestamp: 1_700_000_000,
		Bits: "1f00ffff", PowLimitBits: "207fffff", TargetSpacing: 30, ASERTHalfLife: 3600,
		Subsidy: 50 * uint64(types.Coin), HalvingInterval: 100_000,
		MaxBlockSize: 1_000_000, MaxBlockTxs: 5000, MaxFutureDrift: 7200,
		Alloc: map[string]uint64{
			gtAddr(0).Bech32(gtHRP): 1000,
			gtAddr(1).Bech32(gtHRP): 2000,
			gtAddr(2).Bech32(gtHRP): 3000,
		},
	}
}

// gtJSON renders f as a JSON object map so that rows can edit keys.
func gtJSON(t testing.TB, f genesis.File) map[string]any {
	t.Helper()
	raw, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func gtMarshal(t testing.TB, m map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// gtWantField fails unless err is a *FieldError naming field and matches
// ErrInvalidGenesis.
func gtWantField(t testing.TB, err error, field string) *genesis.FieldError {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want an error for field %q", field)
	}
	if !errors.Is(err, genesis.ErrInvalidGenesis) {
		t.Fatalf("error %v does not match ErrInvalidGenesis", err)
	}
	var fe *genesis.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field {
		t.Fatalf("error names field %q (%v), want %q", fe.Field, err, field)
	}
	if fe.Reason == "" || !strings.Contains(err.Error(), fe.Reason) {
		t.Fatalf("error %q without its reason", err)
	}
	return fe
}

func TestBaseFileIsValid(t *testing.T) {
	g, err := genesis.Build(gtBase())
	if err != nil {
		t.Fatal(err)
	}
	p := g.Params
	if p.ChainID != 42 || p.AddressPrefix != gtHRP || p.GenesisBits != 0x1f00ffff || p.PowLimitBits != 0x207fffff ||
		p.PowLimit.Cmp(consensus.CompactToBig(0x207fffff)) != 0 || p.InitialSubsidy != 50*types.Coin ||
		p.GenesisHash != g.Hash || g.Hash != g.Block.Hash() || len(g.Alloc) != 3 {
		t.Fatalf("params %+v", p)
	}
	for i := 1; i < len(g.Alloc); i++ {
		if bytes.Compare(g.Alloc[i-1].Addr[:], g.Alloc[i].Addr[:]) >= 0 {
			t.Fatal("allocations not sorted by address")
		}
	}
	again, err := genesis.Parse(gtMarshal(t, gtJSON(t, gtBase())))
	if err != nil || again.Hash != g.Hash {
		t.Fatalf("JSON of the base file: %v", err)
	}
}

// TestFieldErrors: each invalid value gives a *FieldError naming its field,
// through Parse (JSON) and, where a File can hold the value, through Build.
func TestFieldErrors(t *testing.T) {
	addr := func(i int) string { return gtAddr(i).Bech32(gtHRP) }
	typo := func(s string) string {
		c := byte('q')
		if s[len(s)-1] == 'q' {
			c = 'p'
		}
		return s[:len(s)-1] + string(c)
	}
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(m map[string]any) { return func(m map[string]any) { delete(m, k) } }
	alloc := func(entries map[string]any) func(m map[string]any) {
		return func(m map[string]any) { m["alloc"] = entries }
	}
	tooMany := map[string]any{}
	for i := 0; i <= genesis.MaxAllocations; i++ {
		tooMany[fmt.Sprint("x", i)] = 1
	}
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		field string
	}{
		{"network empty", set("network", ""), "network"},
		{"network missing", del("network"), "network"},
		{"network too long", set("network", strings.Repeat("n", 65)), "network"},
		{"network control character", set("network", "dev\nnet"), "network"},
		{"network not ASCII", set("network", "dévnet"), "network"},
		{"network not a string", set("network", 5), "network"},
		{"chainId zero", set("chainId", 0), "chainId"},
		{"chainId missing", del("chainId"), "chainId"},
		{"chainId negative", set("chainId", -1), "chainId"},
		{"chainId over 32 bits", set("chainId", uint64(math.MaxUint32)+1), "chainId"},
		{"chainId fraction", set("chainId", 1.5), "chainId"},
		{"chainId string", set("chainId", "42"), "chainId"},
		{"addressPrefix empty", set("addressPrefix", ""), "addressPrefix"},
		{"addressPrefix upper case", set("addressPrefix", "LTEST"), "addressPrefix"},
		{"addressPrefix punctuation", set("addressPrefix", "l-test"), "addressPrefix"},
		{"addressPrefix too long", set("addressPrefix", strings.Repeat("a", 21)), "addressPrefix"},
		{"timestamp zero", set("timestamp", 0), "timestamp"},
		{"timestamp missing", del("timestamp"), "timestamp"},
		{"timestamp beyond 2^40", set("timestamp", uint64(1)<<40+1), "timestamp"},
		{"timestamp in milliseconds", set("timestamp", uint64(1_700_000_000_000_000)), "timestamp"},
		{"bits seven digits", set("bits", "1f00fff"), "bits"},
		{"bits nine digits", set("bits", "01f00ffff"), "bits"},
		{"bits bad hex", set("bits", "1g00ffff"), "bits"},
		{"bits 0x prefix", set("bits", "0x00ffff"), "bits"},
		{"bits signed", set("bits", "+1f00fff"), "bits"},
		{"bits non-canonical", set("bits", "2100007f"), "bits"},
		{"bits zero", set("bits", "00000000"), "bits"},
		{"bits negative", set("bits", "1f80ffff"), "bits"},
		{"bits over 256 bits", set("bits", "ff7fffff"), "bits"},
		{"bits easier than limit", set("bits", "2100ffff"), "bits"},
		{"bits missing", del("bits"), "bits"},
		{"powLimitBits bad hex", set("powLimitBits", "zz7fffff"), "powLimitBits"},
		{"powLimitBits non-canonical", set("powLimitBits", "21007fff"), "powLimitBits"},
		{"powLimitBits zero", set("powLimitBits", "20000000"), "powLimitBits"},
		{"powLimitBits over 256 bits", set("powLimitBits", "2200ffff"), "powLimitBits"},
		{"powLimitBits missing", del("powLimitBits"), "powLimitBits"},
		{"targetSpacing zero", set("targetSpacing", 0), "targetSpacing"},
		{"targetSpacing over a day", set("targetSpacing", 86401), "targetSpacing"},
		{"asertHalfLife below spacing", set("asertHalfLife", 29), "asertHalfLife"},
		{"asertHalfLife zero", set("asertHalfLife", 0), "asertHalfLife"},
		{"asertHalfLife over a year", set("asertHalfLife", 365*86400+1), "asertHalfLife"},
		{"halvingInterval zero", set("halvingInterval", 0), "halvingInterval"},
		{"maxBlockSize below one block", set("maxBlockSize", types.HeaderSize+4+types.MinTxSize+types.MaxMemoSize-1), "maxBlockSize"},
		{"maxBlockSize over the limit", set("maxBlockSize", genesis.MaxBlockSizeLimit+1), "maxBlockSize"},
		{"maxBlockTxs zero", set("maxBlockTxs", 0), "maxBlockTxs"},
		{"maxBlockTxs more than fit", set("maxBlockTxs", 1_000_000/types.MinTxSize+1), "maxBlockTxs"},
		{"maxFutureDrift zero", set("maxFutureDrift", 0), "maxFutureDrift"},
		{"maxFutureDrift over a day", set("maxFutureDrift", 86401), "maxFutureDrift"},
		{"subsidy too big for supply", set("subsidy", uint64(1)<<62), "subsidy"},
		{"subsidy and allocations exceed supply", func(m map[string]any) {
			m["alloc"] = map[string]any{addr(0): uint64(math.MaxUint64) - 50} // plus 100 blocks of 1
			m["subsidy"] = 1
			m["halvingInterval"] = 100
		}, "subsidy"},
		{"subsidy negative", set("subsidy", -1), "subsidy"},
		{"alloc bad checksum", alloc(map[string]any{typo(addr(0)): 1}), "alloc"},
		{"alloc wrong prefix", alloc(map[string]any{gtAddr(0).Bech32("lmain"): 1}), "alloc"},
		{"alloc hex address", alloc(map[string]any{gtAddr(0).String(): 1}), "alloc"},
		{"alloc mixed case", alloc(map[string]any{strings.ToUpper(addr(0)[:8]) + addr(0)[8:]: 1}), "alloc"},
		{"alloc zero balance", alloc(map[string]any{addr(0): 1, addr(1): 0}), "alloc"},
		{"alloc duplicate in another case", alloc(map[string]any{addr(1): 5, strings.ToUpper(addr(1)): 6}), "alloc"},
		{"alloc overflow", alloc(map[string]any{addr(0): uint64(math.MaxUint64), addr(1): 1}), "alloc"},
		{"alloc negative", alloc(map[string]any{addr(0): -1}), "alloc"},
		{"alloc balance over 64 bits", alloc(map[string]any{addr(0): json.Number("18446744073709551616")}), "alloc"},
		{"alloc not an object", set("alloc", []any{addr(0)}), "alloc"},
		{"alloc too many", alloc(tooMany), "alloc"},
		{"unknown field", set("chainID2", 1), "(file)"},
		{"misspelt field", func(m map[string]any) { m["maxBlockTx"] = m["maxBlockTxs"]; delete(m, "maxBlockTxs") }, "(file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := gtJSON(t, gtBase())
			tt.edit(m)
			raw := gtMarshal(t, m)
			_, err := genesis.Parse(raw)
			fe := gtWantField(t, err, tt.field)
			if tt.field == "(file)" && !strings.Contains(fe.Reason, "unknown field") {
				t.Fatalf("reason %q does not say which field is unknown", fe.Reason)
			}
			// Through Build as well, when the value fits the File type.
			var f genesis.File
			if json.Unmarshal(raw, &f) == nil && tt.field != "(file)" {
				_, err := genesis.Build(f)
				gtWantField(t, err, tt.field)
			}
		})
	}
}

// TestFieldBoundariesAccepted: the extreme values each rule allows.
func TestFieldBoundariesAccepted(t *testing.T) {
	minBlock := uint32(types.HeaderSize + 4 + types.MinTxSize + types.MaxMemoSize)
	tests := []struct {
		name string
		edit func(f *genesis.File)
	}{
		{"network of 64 characters", func(f *genesis.File) { f.Network = strings.Repeat("~", 64) }},
		{"network with spaces", func(f *genesis.File) { f.Network = "my test net" }},
		{"prefix of 20 characters", func(f *genesis.File) { f.AddressPrefix, f.Alloc = "abcdefghij0123456789", nil }},
		{"timestamp 2^40", func(f *genesis.File) { f.Timestamp = 1 << 40 }},
		{"timestamp 1", func(f *genesis.File) { f.Timestamp = 1 }},
		{"bits equal to the limit", func(f *genesis.File) { f.Bits = f.PowLimitBits }},
		{"hardest bits", func(f *genesis.File) { f.Bits = "01010000" }},
		{"upper-case hex", func(f *genesis.File) { f.Bits = "1F00FFFF" }},
		{"spacing of a day, half-life equal", func(f *genesis.File) { f.TargetSpacing, f.ASERTHalfLife = 86400, 86400 }},
		{"half-life of a year", func(f *genesis.File) { f.ASERTHalfLife = 365 * 86400 }},
		{"smallest block", func(f *genesis.File) { f.MaxBlockSize, f.MaxBlockTxs = minBlock, minBlock/types.MinTxSize }},
		{"largest block", func(f *genesis.File) { f.MaxBlockSize = genesis.MaxBlockSizeLimit }},
		{"drift of a day", func(f *genesis.File) { f.MaxFutureDrift = 86400 }},
		{"no subsidy", func(f *genesis.File) { f.Subsidy = 0 }},
		{"no allocations", func(f *genesis.File) { f.Alloc = nil }},
		{"supply exactly the largest amount", func(f *genesis.File) {
			f.Subsidy, f.HalvingInterval = 1, 100
			f.Alloc = map[string]uint64{gtAddr(0).Bech32(gtHRP): math.MaxUint64 - 100}
		}},
	}
	for _, tt := range tests {
		f := gtBase()
		tt.edit(&f)
		if _, err := genesis.Build(f); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestFileLevelErrors(t *testing.T) {
	base := gtMarshal(t, gtJSON(t, gtBase()))
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"whitespace", []byte(" \n\t")},
		{"array", []byte("[]")},
		{"truncated", base[:len(base)-1]},
		{"second object", append(append([]byte(nil), base...), []byte(" {}")...)},
		{"trailing word", append(append([]byte(nil), base...), []byte("x")...)},
		{"trailing number", append(append([]byte(nil), base...), []byte("\n1")...)},
		{"too large", append(append([]byte(nil), base...), bytes.Repeat([]byte(" "), genesis.MaxFileSize)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := genesis.Parse(tt.data)
			gtWantField(t, err, "(file)")
		})
	}
	// Trailing whitespace is fine.
	if _, err := genesis.Parse(append(append([]byte(nil), base...), "\n\n  "...)); err != nil {
		t.Fatalf("trailing whitespace: %v", err)
	}
	// Load applies the same limits to a file.
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, gtPad(base, genesis.MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := genesis.Load(big)
	gtWantField(t, err, "(file)")
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, base, 0o644); err != nil {
		t.Fatal(err)
	}
	if g, err := genesis.Load(good); err != nil || g.Hash != mustBuild(t, gtBase()).Hash {
		t.Fatalf("Load: %v", err)
	}
	if _, err := genesis.Load(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// gtPad pads data with spaces to n bytes.
func gtPad(data []byte, n int) []byte {
	return append(append([]byte(nil), data...), bytes.Repeat([]byte(" "), n-len(data))...)
}

// TestParseRejectsTrailingCloseBrace: anything but whitespace after the
// JSON object is refused as trailing data. A stray '}' or ']' (the typical
// result of a bad merge or a hand edit) is accepted today, because
// json.Decoder.More reports false before a closing bracket.
func TestParseRejectsTrailingCloseBrace(t *testing.T) {
	base := gtMarshal(t, gtJSON(t, gtBase()))
	for _, tail := range []string{"}", "]", "\n}", "}}", "]}"} {
		_, err := genesis.Parse(append(append([]byte(nil), base...), tail...))
		var fe *genesis.FieldError
		if !errors.As(err, &fe) || fe.Field != "(file)" {
			t.Errorf("genesis followed by %q: err %v, want a (file) trailing-data error", tail, err)
		}
	}
}

func mustBuild(t testing.TB, f genesis.File) *genesis.Genesis {
	t.Helper()
	g, err := genesis.Build(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDefaultParses(t *testing.T) {
	g := genesis.Default()
	again, err := genesis.Parse(ledger.DefaultGenesisJSON)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := mustBuild(t, g.File)
	if g.Hash != again.Hash || g.Hash != rebuilt.Hash || g.Hash != g.Block.Hash() || g.Params.GenesisHash != g.Hash {
		t.Fatal("default genesis hash is not stable")
	}
	if g.Block.Header.Height != 0 || len(g.Block.Txs) != 0 || g.Block.Header.TxRoot != types.MerkleRoot(nil) ||
		g.Block.Header.StateRoot != types.Hash(g.Commitment.Sum()) {
		t.Fatalf("default genesis block %+v", g.Block.Header)
	}
	if err := consensus.CheckHeaderSanity(&g.Block.Header, g.Hash, g.Params); err != nil &&
		!errors.Is(err, consensus.ErrHighHash) {
		t.Fatalf("default genesis header: %v", err)
	}
}

// TestHashChangesWithEachField: changing any single field gives another
// genesis hash; all the variants are distinct. Every field of File has a
// row.
func TestHashChangesWithEachField(t *testing.T) {
	rehome := func(f *genesis.File, hrp string) {
		alloc := map[string]uint64{}
		for s, v := range f.Alloc {
			a, err := types.ParseAddress(s, f.AddressPrefix)
			if err != nil {
				panic(err)
			}
			alloc[a.Bech32(hrp)] = v
		}
		f.AddressPrefix, f.Alloc = hrp, alloc
	}
	tests := []struct {
		field string
		edit  func(f *genesis.File)
	}{
		{"network", func(f *genesis.File) { f.Network = "gtest2" }},
		{"chainId", func(f *genesis.File) { f.ChainID++ }},
		{"addressPrefix", func(f *genesis.File) { rehome(f, "ltesu") }},
		{"timestamp", func(f *genesis.File) { f.Timestamp++ }},
		{"bits", func(f *genesis.File) { f.Bits = "1f00fffe" }},
		{"powLimitBits", func(f *genesis.File) { f.PowLimitBits = "207ffffe" }},
		{"targetSpacing", func(f *genesis.File) { f.TargetSpacing++ }},
		{"asertHalfLife", func(f *genesis.File) { f.ASERTHalfLife++ }},
		{"subsidy", func(f *genesis.File) { f.Subsidy++ }},
		{"halvingInterval", func(f *genesis.File) { f.HalvingInterval++ }},
		{"maxBlockSize", func(f *genesis.File) { f.MaxBlockSize++ }},
		{"maxBlockTxs", func(f *genesis.File) { f.MaxBlockTxs++ }},
		{"maxFutureDrift", func(f *genesis.File) { f.MaxFutureDrift++ }},
		{"alloc", func(f *genesis.File) { f.Alloc[gtAddr(1).Bech32(gtHRP)]++ }},
		{"alloc", func(f *genesis.File) { f.Alloc[gtAddr(3).Bech32(gtHRP)] = 1 }},
		{"alloc", func(f *genesis.File) { delete(f.Alloc, gtAddr(2).Bech32(gtHRP)) }},
		{"alloc", func(f *genesis.File) {
			// Same balances, one moved to another address.
			delete(f.Alloc, gtAddr(2).Bech32(gtHRP))
			f.Alloc[gtAddr(4).Bech32(gtHRP)] = 3000
		}},
		{"alloc", func(f *genesis.File) {
			// Two balances swapped between addresses.
			f.Alloc[gtAddr(0).Bech32(gtHRP)], f.Alloc[gtAddr(1).Bech32(gtHRP)] = 2000, 1000
		}},
		{"alloc", func(f *genesis.File) { f.Alloc = nil }},
	}
	base := mustBuild(t, gtBase())
	seen := map[types.Hash]string{base.Hash: "base"}
	covered := map[string]bool{}
	for i, tt := range tests {
		f := gtBase()
		tt.edit(&f)
		g, err := genesis.Build(f)
		if err != nil {
			t.Fatalf("%s variant %d: %v", tt.field, i, err)
		}
		if prev, dup := seen[g.Hash]; dup {
			t.Errorf("changing %s (row %d) gives the same hash as %s", tt.field, i, prev)
		}
		seen[g.Hash] = fmt.Sprintf("%s (row %d)", tt.field, i)
		covered[tt.field] = true
		// The block's parent hash commits to the parameters: two networks
		// never share it.
		if g.Block.Header.PrevBlock == base.Block.Header.PrevBlock {
			t.Errorf("changing %s leaves the parameter commitment unchanged", tt.field)
		}
	}
	ft := reflect.TypeFor[genesis.File]()
	for i := 0; i < ft.NumField(); i++ {
		tag := strings.Split(ft.Field(i).Tag.Get("json"), ",")[0]
		if !covered[tag] {
			t.Errorf("no row changes field %q", tag)
		}
	}
}

// TestHashIndependentOfFormatting: the same content written differently
// (key order, whitespace, indentation, map order, upper-case addresses and
// hex digits) has the same hash.
func TestHashIndependentOfFormatting(t *testing.T) {
	want := mustBuild(t, gtBase()).Hash
	f := gtBase()
	var allocLines []string
	for s, v := range f.Alloc {
		allocLines = append(allocLines, fmt.Sprintf("%q:%d", s, v))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(allocLines)))
	upperAlloc := map[string]uint64{}
	for s, v := range f.Alloc {
		upperAlloc[strings.ToUpper(s)] = v
	}
	compact := gtMarshal(t, gtJSON(t, f))
	indented, _ := json.MarshalIndent(gtJSON(t, f), "", "\t")
	reordered := fmt.Sprintf(`
	{ "alloc" : { %s },
	  "maxFutureDrift":7200,"maxBlockTxs":5000,"maxBlockSize":1000000,"halvingInterval":100000,
	  "subsidy":5000000000,"asertHalfLife":3600,"targetSpacing":30,"powLimitBits":"207fffff",
	  "bits":"1f00ffff","timestamp":1700000000,"addressPrefix":"ltest","chainId":42,"network":"gtest" }
	`, strings.Join(allocLines, ",\n\t\t"))
	upper := gtJSON(t, f)
	upper["alloc"] = upperAlloc
	upper["bits"] = "1F00FFFF"
	upper["powLimitBits"] = "207FFFFF"
	for name, data := range map[string][]byte{
		"compact":         compact,
		"indented":        indented,
		"reordered":       []byte(reordered),
		"crlf":            bytes.ReplaceAll(indented, []byte("\n"), []byte("\r\n")),
		"upper-case":      gtMarshal(t, upper),
		"leading space":   append([]byte("\n\n   "), compact...),
		"escaped network": bytes.Replace(compact, []byte(`"gtest"`), []byte(`"\u0067test"`), 1),
	} {
		if name != "compact" && bytes.Equal(data, compact) {
			t.Fatalf("%s: variant identical to the compact form", name)
		}
		g, err := genesis.Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if g.Hash != want {
			t.Errorf("%s: hash %s, want %s", name, g.Hash, want)
		}
	}
}

// gtSpecHash computes a genesis hash from the file independently of the
// package: the canonical parameter encoding hashed into the genesis
// header's previous-block field, the allocation commitment as its state
// root, the empty Merkle root, height 0, version 1, nonce 0.
func gtSpecHash(t testing.TB, f genesis.File) types.Hash {
	t.Helper()
	bits := func(s string) uint32 {
		var v uint32
		if _, err := fmt.Sscanf(s, "%08x", &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	type alloc struct {
		addr types.Address
		bal  uint64
	}
	var allocs []alloc
	for s, v := range f.Alloc {
		a, err := types.ParseAddress(s, f.AddressPrefix)
		if err != nil {
			t.Fatal(err)
		}
		allocs = append(allocs, alloc{a, v})
	}
	sort.Slice(allocs, func(i, j int) bool { return bytes.Compare(allocs[i].addr[:], allocs[j].addr[:]) < 0 })
	var b []byte
	be16 := func(v uint16) { b = binary.BigEndian.AppendUint16(b, v) }
	be32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	be64 := func(v uint64) { b = binary.BigEndian.AppendUint64(b, v) }
	b = append(b, "ledger/genesis/v1"...)
	be16(uint16(len(f.Network)))
	b = append(b, f.Network...)
	be32(f.ChainID)
	b = append(b, byte(len(f.AddressPrefix)))
	b = append(b, f.AddressPrefix...)
	be64(f.Timestamp)
	be32(bits(f.Bits))
	be32(bits(f.PowLimitBits))
	be64(f.TargetSpacing)
	be64(f.ASERTHalfLife)
	be64(f.Subsidy)
	be32(f.HalvingInterval)
	be32(f.MaxBlockSize)
	be32(f.MaxBlockTxs)
	be64(f.MaxFutureDrift)
	be32(uint32(len(allocs)))
	var leaves [][]byte
	for _, a := range allocs {
		b = append(b, a.addr[:]...)
		be64(a.bal)
		leaf := append(append([]byte(nil), a.addr[:]...), make([]byte, 16)...)
		binary.BigEndian.PutUint64(leaf[types.AddressSize:], a.bal)
		leaves = append(leaves, leaf)
	}
	var state lthash.Hash
	for _, l := range leaves {
		state.Add(l)
	}
	h := types.Header{
		Version: 1, Height: 0, PrevBlock: sha256.Sum256(b), TxRoot: sha256.Sum256(nil),
		StateRoot: state.Sum(), Time: f.Timestamp, Bits: bits(f.Bits),
	}
	enc := h.Encode()
	return types.DoubleSHA256(enc[:])
}

// TestGoldenGenesisHashes parses every testdata/*.json and compares its
// hash with testdata/<name>.hash, and with the hash computed from the
// specification by gtSpecHash. Run with -genesis.update-golden to rewrite
// the .hash files after an intended format change.
func TestGoldenGenesisHashes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("only %d golden files", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := genesis.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if spec := gtSpecHash(t, g.File); spec != g.Hash {
				t.Fatalf("hash %s, specification gives %s", g.Hash, spec)
			}
			hashPath := filepath.Join("testdata", name+".hash")
			if *gtUpdateGolden {
				if err := os.WriteFile(hashPath, []byte(g.Hash.String()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := os.ReadFile(hashPath)
			if err != nil {
				t.Fatal(err)
			}
			want, err := types.ParseHash(strings.TrimSpace(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if g.Hash != want {
				t.Fatalf("genesis hash %s, golden %s", g.Hash, want)
			}
		})
	}
	// The repository's genesis.json is one of them, unchanged.
	devnet, err := os.ReadFile(filepath.Join("testdata", "devnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	dg, err := genesis.Parse(devnet)
	if err != nil {
		t.Fatal(err)
	}
	if dg.Hash != genesis.Default().Hash {
		t.Errorf("testdata/devnet.json (%s) differs from the embedded genesis.json (%s): the default network changed;"+
			" update testdata/devnet.json and its .hash if that was intended", dg.Hash, genesis.Default().Hash)
	}
}
