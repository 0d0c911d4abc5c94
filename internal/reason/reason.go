package reason

import (
	"errors"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/mempool"
	"github.com/ledger-node/ledger/miner"
)

// Of is the name of err's kind, "" if it has none. The first kind found
// in err's chain wins, looked for in this order: a consensus rule or pool
// policy, the chain store, the miner.
func Of(err error) string {
	if k := mempool.Kind(err); k != "" { // consensus and pool kinds
		return k
	}
	var ce *chain.Error
	if errors.As(err, &ce) {
		return string(ce.Kind)
	}
	var ck chain.ErrorKind
	if errors.As(err, &ck) {
		return string(ck)
	}
	var me *miner.Error
	if errors.As(err, &me) {
		return string(me.Kind)
	}
	return ""
}
