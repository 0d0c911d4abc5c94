package genesis

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strconv"

	ledger "github.com/ledger-node/ledger"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/consensus/lthash"
)

// ErrInvalidGenesis is the kind of every genesis validation error.
var ErrInvalidGenesis = errors.New("invalid genesis")

// FieldError names the genesis field that failed validation and why.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements the error interface.
func (e *FieldError) Error() string { return fmt.Sprintf("genesis field %q: %s", e.Field, e.Reason) }

// Unwrap lets errors.Is match ErrInvalidGenesis.
func (e *FieldError) Unwrap() error { return ErrInvalidGenesis }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits on genesis values, so that a hostile file cannot make the node
// allocate or loop without bound.
const (
	// MaxFileSize bounds the genesis file.
	MaxFileSize = 16 << 20
	// MaxAllocations bounds the number of funded accounts.
	MaxAllocations = 100_000
	// MaxBlockSizeLimit is the largest maxBlockSize a network may choose.
	MaxBlockSizeLimit = 32 << 20
	maxNameLen        = 64
)

// File is the JSON form of a genesis file. Amounts are integers in base
// units; bits are compact targets as hex strings ("1f00ffff").
type File struct {
	Network         string            `json:"network"`
	ChainID         uint32            `json:"chainId"`
	AddressPrefix   string            `json:"addressPrefix"`
	Timestamp       uint64            `json:"timestamp"`
	Bits            string            `json:"bits"`
	PowLimitBits    string            `json:"powLimitBits"`
	TargetSpacing   uint64            `json:"targetSpacing"`
	ASERTHalfLife   uint64            `json:"asertHalfLife"`
	Subsidy         uint64            `json:"subsidy"`
	HalvingInterval uint32            `json:"halvingInterval"`
	MaxBlockSize    uint32            `json:"maxBlockSize"`
	MaxBlockTxs     uint32            `json:"maxBlockTxs"`
	MaxFutureDrift  uint64            `json:"maxFutureDrift"`
	Alloc           map[string]uint64 `json:"alloc"`
}

// Allocation is an account funded at genesis.
type Allocation struct {
	Addr    types.Address
	Balance types.Amount
}

// Genesis is a validated network definition.
type Genesis struct {
	Params *consensus.Params
	// Block is the genesis block: height 0, no transactions.
	Block *types.Block
	// Hash is the genesis block's hash, the network's identity.
	Hash types.Hash
	// Alloc lists the funded accounts sorted by address.
	Alloc []Allocation
	// Commitment is the state commitment over Alloc.
	Commitment lthash.Hash
	// File is the validated source.
	File File
}

// Default returns the embedded default network.
func Default() *Genesis {
	g, err := Parse(ledger.DefaultGenesisJSON)
	if err != nil {
		panic("embedded genesis.json is invalid: " + err.Error())
	}
	return g
}

// Load reads and validates a genesis file.
func Load(path string) (*Genesis, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fieldErr("(file)", "larger than %d bytes", MaxFileSize)
	}
	return Parse(data)
}

// Parse validates a genesis file's contents and builds the network.
func Parse(data []byte) (*Genesis, error) {
	if len(data) > MaxFileSize {
		return nil, fieldErr("(file)", "larger than %d bytes", MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fieldErr(jsonErrorField(err), "%v", err)
	}
	// Anything but the end of input after the object is refused: More()
	// alone misses a stray closing bracket.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fieldErr("(file)", "trailing data after the JSON object")
	}
	return Build(f)
}

func jsonErrorField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	return "(file)"
}

// Build validates f and builds the network it defines.
func Build(f File) (*Genesis, error) {
	p, err := buildParams(&f)
	if err != nil {
		return nil, err
	}
	alloc, err := buildAlloc(&f, p)
	if err != nil {
		return nil, err
	}
	leaves := make([][]byte, len(alloc))
	for i, a := range alloc {
		leaves[i] = consensus.AccountLeaf(a.Addr, consensus.Account{Balance: a.Balance})
	}
	g := &Genesis{Params: p, Alloc: alloc, File: f}
	g.Commitment = lthash.AddAll(leaves, 1)
	g.Block = &types.Block{Header: types.Header{
		Version:   consensus.HeaderVersion,
		Height:    0,
		PrevBlock: paramsHash(p, alloc),
		TxRoot:    types.MerkleRoot(nil),
		StateRoot: g.Commitment.Sum(),
		Time:      f.Timestamp,
		Bits:      p.GenesisBits,
	}}
	g.Hash = g.Block.Hash()
	p.GenesisHash = g.Hash
	return g, nil
}

func parseBits(field, s string) (uint32, *big.Int, error) {
	if len(s) != 8 {
		return 0, nil, fieldErr(field, "must be 8 hex digits of a compact target, got %q", s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, nil, fieldErr(field, "must be 8 hex digits of a compact target, got %q", s)
	}
	bits := uint32(v)
	target := consensus.CompactToBig(bits)
	if target.Sign() <= 0 || target.BitLen() > 256 {
		return 0, nil, fieldErr(field, "compact target %s is zero, negative or over 256 bits", s)
	}
	if consensus.BigToCompact(target) != bits {
		return 0, nil, fieldErr(field, "compact target %s is not in canonical form (%08x)", s, consensus.BigToCompact(target))
	}
	return bits, target, nil
}

func buildParams(f *File) (*consensus.Params, error) {
	if f.Network == "" || len(f.Network) > maxNameLen {
		return nil, fieldErr("network", "must be 1 to %d characters", maxNameLen)
	}
	for _, c := range f.Network {
		if c < 0x20 || c > 0x7e {
			return nil, fieldErr("network", "must be printable ASCII")
		}
	}
	if f.ChainID == 0 {
		return nil, fieldErr("chainId", "must be set and non-zero")
	}
	if !types.ValidHRP(f.AddressPrefix) {
		return nil, fieldErr("addressPrefix", "must be 1 to 20 lowercase letters or digits, got %q", f.AddressPrefix)
	}
	if f.Timestamp == 0 || f.Timestamp > 1<<40 {
		return nil, fieldErr("timestamp", "must be Unix seconds, got %d", f.Timestamp)
	}
	limitBits, limit, err := parseBits("powLimitBits", f.PowLimitBits)
	if err != nil {
		return nil, err
	}
	bits, target, err := parseBits("bits", f.Bits)
	if err != nil {
		return nil, err
	}
	if target.Cmp(limit) > 0 {
		return nil, fieldErr("bits", "initial target %s is easier than powLimitBits %s", f.Bits, f.PowLimitBits)
	}
	if f.TargetSpacing == 0 || f.TargetSpacing > 86400 {
		return nil, fieldErr("targetSpacing", "must be 1 to 86400 seconds, got %d", f.TargetSpacing)
	}
	if f.ASERTHalfLife < f.TargetSpacing || f.ASERTHalfLife > 365*86400 {
		return nil, fieldErr("asertHalfLife", "must be from targetSpacing to one year in seconds, got %d", f.ASERTHalfLife)
	}
	if f.HalvingInterval == 0 {
		return nil, fieldErr("halvingInterval", "must be at least 1")
	}
	minBlock := uint32(types.HeaderSize + 4 + types.MinTxSize + types.MaxMemoSize)
	if f.MaxBlockSize < minBlock || f.MaxBlockSize > MaxBlockSizeLimit {
		return nil, fieldErr("maxBlockSize", "must be %d to %d bytes, got %d", minBlock, MaxBlockSizeLimit, f.MaxBlockSize)
	}
	if f.MaxBlockTxs == 0 || f.MaxBlockTxs > f.MaxBlockSize/types.MinTxSize {
		return nil, fieldErr("maxBlockTxs", "must be 1 to maxBlockSize/%d, got %d", types.MinTxSize, f.MaxBlockTxs)
	}
	if f.MaxFutureDrift == 0 || f.MaxFutureDrift > 86400 {
		return nil, fieldErr("maxFutureDrift", "must be 1 to 86400 seconds, got %d", f.MaxFutureDrift)
	}
	return &consensus.Params{
		Name:            f.Network,
		ChainID:         f.ChainID,
		AddressPrefix:   f.AddressPrefix,
		GenesisTime:     f.Timestamp,
		GenesisBits:     bits,
		PowLimit:        limit,
		PowLimitBits:    limitBits,
		TargetSpacing:   f.TargetSpacing,
		ASERTHalfLife:   f.ASERTHalfLife,
		InitialSubsidy:  types.Amount(f.Subsidy),
		HalvingInterval: f.HalvingInterval,
		MaxBlockSize:    f.MaxBlockSize,
		MaxBlockTxs:     f.MaxBlockTxs,
		MaxFutureDrift:  f.MaxFutureDrift,
	}, nil
}

func buildAlloc(f *File, p *consensus.Params) ([]Allocation, error) {
	if len(f.Alloc) > MaxAllocations {
		return nil, fieldErr("alloc", "has %d entries, at most %d allowed", len(f.Alloc), MaxAllocations)
	}
	alloc := make([]Allocation, 0, len(f.Alloc))
	var total types.Amount
	for s, bal := range f.Alloc {
		addr, err := types.ParseAddress(s, p.AddressPrefix)
		if err != nil {
			return nil, fieldErr("alloc", "address %q: %v", s, err)
		}
		if bal == 0 {
			return nil, fieldErr("alloc", "address %q has a zero balance", s)
		}
		if total+types.Amount(bal) < total {
			return nil, fieldErr("alloc", "balances overflow")
		}
		total += types.Amount(bal)
		alloc = append(alloc, Allocation{Addr: addr, Balance: types.Amount(bal)})
	}
	sort.Slice(alloc, func(i, j int) bool { return bytes.Compare(alloc[i].Addr[:], alloc[j].Addr[:]) < 0 })
	for i := 1; i < len(alloc); i++ {
		if alloc[i].Addr == alloc[i-1].Addr {
			return nil, fieldErr("alloc", "address %s appears twice", alloc[i].Addr.Bech32(p.AddressPrefix))
		}
	}
	// The whole supply, allocations and every future subsidy, must fit in
	// an Amount, so no balance can ever overflow.
	supply := new(big.Int).SetUint64(uint64(total))
	for h := uint64(0); h < 64; h++ {
		sub := new(big.Int).SetUint64(uint64(p.InitialSubsidy >> h))
		supply.Add(supply, sub.Mul(sub, new(big.Int).SetUint64(uint64(p.HalvingInterval))))
	}
	if supply.BitLen() > 64 {
		return nil, fieldErr("subsidy", "allocations plus all future subsidies exceed the largest amount")
	}
	return alloc, nil
}

// paramsHash commits to every parameter and allocation in a canonical
// encoding independent of the JSON's formatting.
func paramsHash(p *consensus.Params, alloc []Allocation) types.Hash {
	var b []byte
	b = append(b, "ledger/genesis/v1"...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Name)))
	b = append(b, p.Name...)
	b = binary.BigEndian.AppendUint32(b, p.ChainID)
	b = append(b, byte(len(p.AddressPrefix)))
	b = append(b, p.AddressPrefix...)
	b = binary.BigEndian.AppendUint64(b, p.GenesisTime)
	b = binary.BigEndian.AppendUint32(b, p.GenesisBits)
	b = binary.BigEndian.AppendUint32(b, p.PowLimitBits)
	b = binary.BigEndian.AppendUint64(b, p.TargetSpacing)
	b = binary.BigEndian.AppendUint64(b, p.ASERTHalfLife)
	b = binary.BigEndian.AppendUint64(b, uint64(p.InitialSubsidy))
	b = binary.BigEndian.AppendUint32(b, p.HalvingInterval)
	b = binary.BigEndian.AppendUint32(b, p.MaxBlockSize)
	b = binary.BigEndian.AppendUint32(b, p.MaxBlockTxs)
	b = binary.BigEndian.AppendUint64(b, p.MaxFutureDrift)
	b = binary.BigEndian.AppendUint32(b, uint32(len(alloc)))
	for _, a := range alloc {
		b = append(b, a.Addr[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(a.Balance))
	}
	return sha256.Sum256(b)
}

// Marshal renders the file as indented JSON, the form Parse reads.
func (f File) Marshal() ([]byte, error) {
	if f.Alloc == nil {
		f.Alloc = map[string]uint64{}
	}
	return json.MarshalIndent(f, "", "  ")
}
