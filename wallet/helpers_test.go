package wallet

import (
	"testing"

	"github.com/ledger-node/ledger/internal/chaingen"
)

// testKDF is a cheap scrypt setting (N=16) so tests stay fast.
var testKDF = KDFParams{LogN: 4, R: 1, P: 1}

// testMnemonic is BIP-39 vector 9 (24 words).
const testMnemonic = "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless"

func testNetwork(t testing.TB) (Network, *chaingen.Generator) {
	t.Helper()
	g := chaingen.New(chaingen.Options{Accounts: 2})
	return NetworkFromParams(g.Params), g
}

func testSeed(t testing.TB) []byte {
	t.Helper()
	seed, err := MnemonicToSeed(testMnemonic, "")
	if err != nil {
		t.Fatal(err)
	}
	return seed
}
