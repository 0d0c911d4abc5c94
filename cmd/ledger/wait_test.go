package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledger-node/ledger/rpc/client"
)

// scriptedNode answers chain_getTransaction and tx_status from a script:
// step i of the script is used for the i-th poll (the last repeats).
type pollStep struct {
	tx     string // chain_getTransaction result, or stepDown or stepUnavailable
	status string // tx_status result
}

// Poll steps in which the node does not answer: the connection is
// closed without a response (a node restarting), or a proxy answers 503.
const (
	stepDown        = "down"
	stepUnavailable = "unavailable"
)

var (
	downStep        = pollStep{stepDown, ""}
	unavailableStep = pollStep{stepUnavailable, ""}
)

func newScriptedNode(t *testing.T, steps []pollStep) *client.Client {
	t.Helper()
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		step := steps[min(polls, len(steps)-1)]
		switch step.tx {
		case stepDown:
			polls++
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		case stepUnavailable:
			polls++
			http.Error(w, "upstream restarting", http.StatusServiceUnavailable)
			return
		}
		res := ""
		switch req.Method {
		case "chain_getTransaction":
			res = step.tx
			if !strings.Contains(res, `"confirmed"`) {
				break // tx_status follows in the same poll
			}
			polls++
		case "tx_status":
			res = step.status
			polls++
		default:
			t.Errorf("unexpected method %s", req.Method)
		}
		w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":` + res + `}`))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{URL: srv.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testApp is an app writing to buffers, whose clock advances only when
// it sleeps.
func testApp(t *testing.T) (*app, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(nil, &out, &errOut)
	a.pollInterval = time.Second
	a.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	if err := a.loadSettings(newRootCmd(a)); err != nil {
		t.Fatal(err)
	}
	return a, &out, &errOut
}

const hashHex = "1111111111111111111111111111111111111111111111111111111111111111"

// TestWaitConfirmations: progress is reported once per change; the wait
// ends at the wanted confirmations, or at once with the explanation when
// the pool drops the transaction for good.
func TestWaitConfirmations(t *testing.T) {
	pending := pollStep{`{"hash":"h","status":"pending","poolState":"pending"}`, `{"hash":"h","state":"pending","position":2}`}
	queued := pollStep{`{"hash":"h","status":"pending","poolState":"queued"}`, `{"hash":"h","state":"queued","missingNonce":3}`}
	conf := func(n int) pollStep {
		return pollStep{`{"hash":"h","status":"confirmed","height":10,"blockHash":"bb","confirmations":` + strconv.Itoa(n) + `}`, ""}
	}
	tests := []struct {
		name     string
		steps    []pollStep
		want     int
		errSub   string
		progress []string
	}{
		{"pending then confirmed", []pollStep{pending, pending, conf(1), conf(2)}, 2, "",
			[]string{"position 2", "confirmations 1/2", "confirmations 2/2"}},
		{"queued then confirmed", []pollStep{queued, conf(1)}, 1, "", []string{"nonce 3 is missing", "confirmations 1/1"}},
		{"replaced", []pollStep{pending, {`{"hash":"h","status":"unknown"}`, `{"hash":"h","state":"removed","removedReason":"replaced","replacedBy":"cc"}`}}, 1,
			"will not be mined: replaced in the pool by cc", []string{"position 2"}},
		{"refused", []pollStep{{`{"hash":"h","status":"unknown"}`, `{"hash":"h","state":"refused","reason":"ErrBadNonce","error":"nonce too low"}`}}, 1,
			"refused by the node's pool: nonce too low", nil},
		{"expired", []pollStep{{`{"hash":"h","status":"unknown"}`, `{"hash":"h","state":"removed","removedReason":"expired"}`}}, 1, "expired", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, _, errOut := testApp(t)
			c := newScriptedNode(t, tc.steps)
			r, err := a.waitConfirmations(context.Background(), c, hashHex, tc.want, time.Minute)
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) || !strings.Contains(err.Error(), hashHex) {
					t.Fatalf("error %v, want one naming the transaction and %q", err, tc.errSub)
				}
			} else if err != nil || int(r.Confirmations) < tc.want {
				t.Fatalf("wait = %+v, %v", r, err)
			}
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			if len(tc.progress) == 0 {
				lines = nil
				if s := strings.TrimSpace(errOut.String()); s != "" {
					lines = strings.Split(s, "\n")
				}
			}
			if len(lines) != len(tc.progress) {
				t.Fatalf("progress lines %q, want %d lines matching %q", lines, len(tc.progress), tc.progress)
			}
			for i, want := range tc.progress {
				if !strings.Contains(lines[i], want) {
					t.Errorf("progress line %d %q, want %q", i, lines[i], want)
				}
			}
		})
	}
}

// TestWaitTimeout: a transaction that never confirms ends the wait at
// the timeout with where it was last seen.
func TestWaitTimeout(t *testing.T) {
	a, _, _ := testApp(t)
	a.sleep = sleepCtx
	a.pollInterval = 5 * time.Millisecond
	c := newScriptedNode(t, []pollStep{{`{"hash":"h","status":"pending","poolState":"pending"}`, `{"hash":"h","state":"pending","position":7}`}})
	_, err := a.waitConfirmations(context.Background(), c, hashHex, 1, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "gave up after 50ms") || !strings.Contains(err.Error(), "position 7") {
		t.Fatalf("error %v, want a timeout naming the last state", err)
	}
}

// fakeClock makes a's clock advance only when it sleeps.
func fakeClock(a *app) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	a.sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		now = now.Add(d)
		return nil
	}
}

// TestWaitRetriesUnreachable: a node that stops answering for a while
// (connection closed, or 503 from a proxy) does not end the wait: it is
// asked again, with one "node unreachable" line at most every
// retryNoteEvery, and the wait ends when the transaction confirms.
func TestWaitRetriesUnreachable(t *testing.T) {
	pending := pollStep{`{"hash":"h","status":"pending","poolState":"pending"}`, `{"hash":"h","state":"pending","position":1}`}
	conf := pollStep{`{"hash":"h","status":"confirmed","height":10,"blockHash":"bb","confirmations":1}`, ""}
	// One second a poll: 12 failed polls span 11 s, so the note is
	// written at 0 s, 5 s and 10 s.
	steps := []pollStep{pending}
	for i := 0; i < 12; i++ {
		steps = append(steps, []pollStep{downStep, unavailableStep}[i%2])
	}
	steps = append(steps, pending, conf)
	a, _, errOut := testApp(t)
	fakeClock(a)
	r, err := a.waitConfirmations(context.Background(), newScriptedNode(t, steps), hashHex, 1, time.Minute)
	if err != nil || r.Confirmations != 1 {
		t.Fatalf("wait = %+v, %v; want confirmed after the outage", r, err)
	}
	want := []string{"position 1", "node unreachable, retrying", "node unreachable, retrying", "node unreachable, retrying",
		"position 1", "confirmations 1/1"}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("progress %q, want lines matching %q", lines, want)
	}
	for i := range want {
		if !strings.Contains(lines[i], want[i]) {
			t.Errorf("progress line %d %q, want %q", i, lines[i], want[i])
		}
	}
}

// TestWaitUnreachableUntilTimeout: a node that never comes back ends the
// wait at the timeout, with the last state and why the node did not
// answer; an error that asking again cannot cure (a refused token) ends
// it at once.
func TestWaitUnreachableUntilTimeout(t *testing.T) {
	pending := pollStep{`{"hash":"h","status":"pending","poolState":"pending"}`, `{"hash":"h","state":"pending","position":4}`}
	a, _, _ := testApp(t)
	a.sleep = sleepCtx
	a.pollInterval = 5 * time.Millisecond
	_, err := a.waitConfirmations(context.Background(), newScriptedNode(t, []pollStep{pending, downStep}), hashHex, 1, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "gave up after 100ms") || !strings.Contains(err.Error(), "position 4") ||
		!strings.Contains(err.Error(), "unreachable at the end") {
		t.Fatalf("error %v, want a timeout naming the last state and the outage", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ = testApp(t)
	fakeClock(a)
	_, err = a.waitConfirmations(context.Background(), c, hashHex, 1, time.Minute)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("error %v, want the refused token at once", err)
	}
}
