package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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

// retryNoteEvery is the least time between two "node unreachable"
// lines while a wait retries.
const retryNoteEvery = 5 * time.Second

// waitConfirmations polls the node until transaction hash has n
// confirmations, writing a progress line whenever its situation changes.
// It fails at once when the transaction is refused, replaced, evicted,
// expired or invalidated, and after timeout otherwise. A node that cannot
// be reached (restarting, a call timing out) is asked again until the
// timeout, with a line saying so at most every retryNoteEvery: the
// transaction may well confirm meanwhile.
func (a *app) waitConfirmations(ctx context.Context, c *client.Client, hash string, n int, timeout time.Duration) (rpc.TxResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	var down error      // the last transient error while the node is unreachable
	var noted time.Time // when "node unreachable" was last written
	report := func(s string) {
		// After an outage the situation is written again even if
		// unchanged, so that the last line is not the retry note.
		if s != last || down != nil {
			a.progress("%s", s)
			last = s
		}
		down = nil
	}
	for {
		r, st, err := pollTx(ctx, c, hash)
		switch {
		case err != nil && (ctx.Err() != nil || !transient(err)):
			return r, a.waitError(ctx, hash, timeout, last, down, err)
		case err != nil:
			if now := a.now(); noted.IsZero() || now.Sub(noted) >= retryNoteEvery {
				a.progress("node unreachable, retrying")
				noted = now
			}
			down = err
		case r.Status == "confirmed":
			report(fmt.Sprintf("confirmations %d/%d (block %d)", r.Confirmations, n, r.Height))
			if int64(r.Confirmations) >= int64(n) {
				return r, nil
			}
		default:
			text, final := explainStatus(st)
			if final {
				return r, fmt.Errorf("transaction %s will not be mined: %s", hash, text)
			}
			report(text)
		}
		if err := a.sleep(ctx, a.pollInterval); err != nil {
			return r, a.waitError(ctx, hash, timeout, last, down, err)
		}
	}
}

// pollTx asks where transaction hash stands: chain_getTransaction, and
// tx_status unless it is confirmed.
func pollTx(ctx context.Context, c *client.Client, hash string) (rpc.TxResult, rpc.TxStatus, error) {
	r, err := c.Transaction(ctx, hash)
	if err != nil || r.Status == "confirmed" {
		return r, rpc.TxStatus{}, err
	}
	st, err := c.TxStatus(ctx, hash)
	return r, st, err
}

// transient reports whether err may pass by itself: the node is not
// reachable (refused, reset, a call timed out) or a proxy in front of it
// says it is unavailable. Anything else (a refused token, a malformed
// answer, an error from the node) will not change by asking again.
func transient(err error) bool {
	if errors.Is(err, client.ErrUnreachable) {
		return true
	}
	var ce *client.Error
	if errors.As(err, &ce) && ce.Kind == client.ErrHTTP {
		switch ce.Code {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

// waitError words a failure while waiting: a timeout says where the
// transaction was last seen and, if the node was unreachable when time
// ran out (down), why.
func (a *app) waitError(ctx context.Context, hash string, timeout time.Duration, last string, down, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if last == "" {
			last = "no answer from the node"
		}
		msg := fmt.Sprintf("transaction %s: gave up after %v; last seen: %s", hash, timeout, last)
		if down != nil {
			msg += "; the node was unreachable at the end: " + down.Error()
		}
		return errors.New(msg)
	}
	return fmt.Errorf("waiting for transaction %s: %w", hash, err)
}
