package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ledger-node/ledger/rpc"
	"github.com/ledger-node/ledger/rpc/client"
)

// explainStatus says in words where tx_status places a transaction, and
// whether that is final (it will never be mined as it is).
func explainStatus(st rpc.TxStatus) (text string, final bool) {
	detail := ""
	if st.Error != "" {
		detail = ": " + st.Error
	} else if st.Reason != "" {
		detail = ": " + st.Reason
	}
	switch st.State {
	case "pending":
		return fmt.Sprintf("waiting in the pool, position %d among the transactions ready to be mined", st.Position), false
	case "queued":
		if st.MissingNonce != nil {
			return fmt.Sprintf("queued in the pool: the sender's transaction with nonce %d is missing, and this one cannot be mined before it", *st.MissingNonce), false
		}
		return "queued in the pool behind a missing nonce of the sender", false
	case "confirmed":
		return fmt.Sprintf("confirmed in block %d", st.Height), false
	case "refused":
		return "refused by the node's pool" + detail, true
	case "unknown":
		return "unknown to the node (not in its pool, its recent history or its chain)", false
	case "removed":
		switch st.RemovedReason {
		case "mined":
			return fmt.Sprintf("mined in block %d", st.Height), false
		case "replaced":
			return fmt.Sprintf("replaced in the pool by %s (same sender and nonce, higher fee)", st.ReplacedBy), true
		case "evicted":
			return "evicted from the full pool: its fee rate was among the lowest" + detail, true
		case "expired":
			return "expired: it waited in the pool longer than the node allows", true
		case "invalidated":
			return "dropped from the pool: it is no longer valid" + detail, true
		}
		return "removed from the pool (" + st.RemovedReason + ")" + detail, true
	}
	return "in state " + st.State, false
}

// waitConfirmations polls the node until transaction hash has n
// confirmations, writing a progress line whenever its situation changes.
// It fails at once when the transaction is refused, replaced, evicted,
// expired or invalidated, and after timeout otherwise.
func (a *app) waitConfirmations(ctx context.Context, c *client.Client, hash string, n int, timeout time.Duration) (rpc.TxResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	report := func(s string) {
		if s != last {
			a.progress("%s", s)
			last = s
		}
	}
	for {
		r, err := c.Transaction(ctx, hash)
		if err != nil {
			return r, a.waitError(ctx, hash, timeout, last, err)
		}
		if r.Status == "confirmed" {
			if int64(r.Confirmations) >= int64(n) {
				report(fmt.Sprintf("confirmations %d/%d (block %d)", r.Confirmations, n, r.Height))
				return r, nil
			}
			report(fmt.Sprintf("confirmations %d/%d (block %d)", r.Confirmations, n, r.Height))
		} else {
			st, err := c.TxStatus(ctx, hash)
			if err != nil {
				return r, a.waitError(ctx, hash, timeout, last, err)
			}
			text, final := explainStatus(st)
			if final {
				return r, fmt.Errorf("transaction %s will not be mined: %s", hash, text)
			}
			report(text)
		}
		if err := a.sleep(ctx, a.pollInterval); err != nil {
			return r, a.waitError(ctx, hash, timeout, last, err)
		}
	}
}

// waitError words a failure while waiting: a timeout says where the
// transaction was last seen.
func (a *app) waitError(ctx context.Context, hash string, timeout time.Duration, last string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if last == "" {
			last = "no answer from the node"
		}
		return fmt.Errorf("transaction %s: gave up after %v; last seen: %s", hash, timeout, last)
	}
	return fmt.Errorf("waiting for transaction %s: %w", hash, err)
}
