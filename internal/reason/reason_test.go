package reason

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"kindless", errors.New("disk on fire"), ""},
		{"consensus rule", &consensus.RuleError{Kind: consensus.ErrBadNonce, Description: "nonce 3, want 2"}, "ErrBadNonce"},
		{"bare consensus kind", consensus.ErrHighHash, "ErrHighHash"},
		{"pool policy", &mempool.PolicyError{Kind: mempool.ErrFeeTooLow}, "ErrFeeTooLow"},
		{"bare pool kind", mempool.ErrPoolFull, "ErrPoolFull"},
		{"chain store", &chain.Error{Kind: chain.ErrDuplicateBlock, Description: "have it"}, "ErrDuplicateBlock"},
		{"bare chain kind", chain.ErrInsufficientWork, "ErrInsufficientWork"},
		{"miner", &miner.Error{Kind: miner.ErrNilBlock, Description: "no block"}, "ErrNilBlock"},
		{"wrapped", fmt.Errorf("submit: %w", &chain.Error{Kind: chain.ErrKnownInvalid}), "ErrKnownInvalid"},
		// A bare miner kind is not an *miner.Error: the miner returns
		// only the latter, and RPC has never named the former.
		{"bare miner kind", miner.ErrRunning, ""},
		// A consensus kind anywhere in the chain wins over the store's.
		{"rule inside chain error", fmt.Errorf("%w: %w", &chain.Error{Kind: chain.ErrStorage},
			&consensus.RuleError{Kind: consensus.ErrBadMerkleRoot}), "ErrBadMerkleRoot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.err); got != tc.want {
				t.Fatalf("Of(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
