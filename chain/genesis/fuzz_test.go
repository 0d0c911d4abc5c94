package genesis

import (
	"errors"
	"testing"

	ledger "github.com/ledger-node/ledger"
)

// FuzzParse feeds arbitrary bytes to the genesis parser: a config file is
// hostile input. It must return a *FieldError or a network, never panic,
// and a network it accepts must build again to the same hash.
func FuzzParse(f *testing.F) {
	f.Add(ledger.DefaultGenesisJSON)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"network":"x","chainId":1,"addressPrefix":"x","timestamp":1,"bits":"207fffff","powLimitBits":"207fffff","targetSpacing":1,"asertHalfLife":1,"subsidy":1,"halvingInterval":1,"maxBlockSize":600,"maxBlockTxs":1,"maxFutureDrift":1,"alloc":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidGenesis) {
				t.Fatalf("error %v is not an ErrInvalidGenesis", err)
			}
			return
		}
		again, err := Build(g.File)
		if err != nil || again.Hash != g.Hash {
			t.Fatalf("accepted genesis does not rebuild to the same hash: %v", err)
		}
	})
}
