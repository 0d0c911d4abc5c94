package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	tx     string // chain_getTransaction result
	status string // tx_status result
}

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
