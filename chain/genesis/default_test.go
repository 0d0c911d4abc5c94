package genesis

import (
	"crypto/sha256"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/ledger-node/ledger/chain/types"
)

// TestDefaultNetwork checks the embedded devnet: it parses, and its one
// allocation belongs to the documented faucet key, the SHA-256 of
// "ledger devnet faucet" (docs/devnet.md), so users of a fresh devnet can
// spend it.
func TestDefaultNetwork(t *testing.T) {
	g := Default()
	if g.Params.Name != "devnet" || g.Params.AddressPrefix != "ldev" {
		t.Fatalf("default network %q prefix %q", g.Params.Name, g.Params.AddressPrefix)
	}
	seed := sha256.Sum256([]byte("ledger devnet faucet"))
	var pub [types.PubKeySize]byte
	copy(pub[:], secp256k1.PrivKeyFromBytes(seed[:]).PubKey().SerializeCompressed())
	faucet := types.AddressFromPubKey(&pub)
	if len(g.Alloc) != 1 || g.Alloc[0].Addr != faucet {
		t.Fatalf("default allocation %+v, want the faucet %s", g.Alloc, faucet.Bech32("ldev"))
	}
	if g.Block.Header.Bits != g.Params.GenesisBits || g.Hash != g.Block.Hash() {
		t.Fatal("genesis block does not carry the genesis bits or hash")
	}
}
