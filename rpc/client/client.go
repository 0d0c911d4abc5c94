package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	// DefaultTimeout bounds one call, connection included; the node gives
	// each request 30 s, so a little more lets its own answer arrive.
	DefaultTimeout = 35 * time.Second
	// DefaultMaxResponse bounds a response body. The largest answers
	// (mempool_content at its limit, a full block with every transaction)
	// stay well below it.
	DefaultMaxResponse = 64 << 20
)

// ErrorKind identifies a class of client error; errors.Is(err, kind)
// matches any *Error of that kind.
type ErrorKind string

// Client error kinds.
const (
	// ErrBadConfig: the URL is malformed or not http(s).
	ErrBadConfig = ErrorKind("ErrBadConfig")
	// ErrUnreachable: the node could not be reached (refused, timed out,
	// reset); the cause is wrapped.
	ErrUnreachable = ErrorKind("ErrUnreachable")
	// ErrUnauthorized: the node answered HTTP 401: no token or a wrong
	// one.
	ErrUnauthorized = ErrorKind("ErrUnauthorized")
	// ErrHTTP: the node answered another HTTP status than 200, a
	// redirect included (redirects are never followed).
	ErrHTTP = ErrorKind("ErrHTTP")
	// ErrBadResponse: the answer is too large, not JSON-RPC 2.0, has
	// another id, or its result does not decode into the expected type.
	ErrBadResponse = ErrorKind("ErrBadResponse")
	// ErrRPC: the node answered with a JSON-RPC error; Code, Message and
	// Reason say which.
	ErrRPC = ErrorKind("ErrRPC")
)

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

// Error is a client error. For ErrRPC, Code, Message, Reason and Data are
// the node's; for the others Message describes the failure.
type Error struct {
	Kind    ErrorKind
	Method  string
	Code    int
	Message string
	// Reason is the error's data.reason: the stable error kind of the
	// rule that refused the call ("ErrFeeTooLow"), or "".
	Reason string
	// Data is the raw data member of a JSON-RPC error, if any.
	Data  json.RawMessage
	Cause error
}

// Error implements the error interface: for a node's error, its message
// and reason; for a transport error, what failed.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Method != "" {
		b.WriteString(e.Method + ": ")
	}
	b.WriteString(e.Message)
	if e.Kind == ErrRPC && e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is match the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// HasReason reports whether err is a JSON-RPC error from the node whose
// data.reason is reason.
func HasReason(err error, reason string) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == ErrRPC && e.Reason == reason
}

// Config configures a Client.
type Config struct {
	// URL is the node's JSON-RPC endpoint, e.g. http://127.0.0.1:7401.
	URL string
	// Token is the bearer token; empty sends no Authorization header.
	Token string
	// Timeout bounds each call; DefaultTimeout if zero.
	Timeout time.Duration
	// MaxResponse bounds a response body in bytes; DefaultMaxResponse if
	// zero.
	MaxResponse int64
	// HTTPClient is used if set (tests), with its redirects refused like
	// the default client's; otherwise a client with Timeout and the
	// transport of NewTransport.
	HTTPClient *http.Client
}

// NewTransport is the transport of a Client made without
// Config.HTTPClient: http.DefaultTransport's timeouts and pool sizes but
// no proxy. HTTP_PROXY and friends are ignored on purpose: the bearer
// token would travel through the proxy, and a node's RPC endpoint is
// meant to be reached directly.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// refuseRedirect is every client's CheckRedirect: a redirect is answered
// to the caller (Call makes it an ErrHTTP) instead of followed, since a
// followed POST may turn into a GET and carry the token to another
// address.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Client calls one node's JSON-RPC API.
type Client struct {
	url         string
	token       string
	maxResponse int64
	http        *http.Client
	nextID      atomic.Uint64
}

// New checks cfg and returns a Client. It does not contact the node.
func New(cfg Config) (*Client, error) {
	u := strings.TrimSpace(cfg.URL)
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, &Error{Kind: ErrBadConfig, Message: fmt.Sprintf("RPC URL %q must start with http:// or https://", cfg.URL)}
	}
	if strings.ContainsAny(u, " \t\r\n") {
		return nil, &Error{Kind: ErrBadConfig, Message: fmt.Sprintf("RPC URL %q contains white space", cfg.URL)}
	}
	if _, err := http.NewRequest(http.MethodPost, u, nil); err != nil {
		return nil, &Error{Kind: ErrBadConfig, Message: fmt.Sprintf("RPC URL %q is malformed", cfg.URL), Cause: err}
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, &Error{Kind: ErrBadConfig, Message: "RPC token contains a line break"}
	}
	c := &Client{url: u, token: cfg.Token, maxResponse: cfg.MaxResponse}
	if c.maxResponse <= 0 {
		c.maxResponse = DefaultMaxResponse
	}
	if cfg.HTTPClient != nil {
		// A copy: the caller's client keeps its own redirect policy.
		hc := *cfg.HTTPClient
		hc.CheckRedirect = refuseRedirect
		c.http = &hc
	} else {
		timeout := cfg.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		c.http = &http.Client{Timeout: timeout, Transport: NewTransport(), CheckRedirect: refuseRedirect}
	}
	return c, nil
}

// URL is the endpoint the client calls.
func (c *Client) URL() string { return c.url }

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params,omitempty"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *wireError      `json:"error"`
}

type wireError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// Call invokes method with params (nil, a slice for positional parameters
// or a map/struct for named ones) and decodes the result into result
// (which may be nil to discard it, or a *json.RawMessage to keep it as
// sent).
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return &Error{Kind: ErrBadConfig, Method: method, Message: "cannot encode the parameters", Cause: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return &Error{Kind: ErrBadConfig, Method: method, Message: "cannot build the request", Cause: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &Error{Kind: ErrUnreachable, Method: method, Message: "cannot reach the node at " + c.url, Cause: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse+1))
	if err != nil {
		return &Error{Kind: ErrUnreachable, Method: method, Message: "reading the answer from " + c.url, Cause: unwrapURLError(err)}
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return &Error{Kind: ErrHTTP, Method: method, Code: resp.StatusCode,
			Message: fmt.Sprintf("the node answered with a redirect to %s (HTTP %d); redirects are not followed: give the final URL with --rpc",
				redirectTarget(resp), resp.StatusCode)}
	case resp.StatusCode == http.StatusUnauthorized:
		return &Error{Kind: ErrUnauthorized, Method: method, Code: resp.StatusCode,
			Message: "the node refused the RPC token (HTTP 401): check --rpc.token, or --datadir for the node's rpc.cookie"}
	case resp.StatusCode != http.StatusOK:
		return &Error{Kind: ErrHTTP, Method: method, Code: resp.StatusCode,
			Message: fmt.Sprintf("the node answered HTTP %d: %s", resp.StatusCode, firstLine(data))}
	case int64(len(data)) > c.maxResponse:
		return &Error{Kind: ErrBadResponse, Method: method, Message: fmt.Sprintf("answer larger than %d bytes", c.maxResponse)}
	}
	return decodeResponse(method, id, data, result)
}

// decodeResponse checks a JSON-RPC 2.0 response body to the call with id
// and decodes its result into result, or returns its error as an ErrRPC
// *Error. It never panics on any input.
func decodeResponse(method string, id uint64, data []byte, result any) error {
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return &Error{Kind: ErrBadResponse, Method: method, Message: "answer is not a JSON-RPC response", Cause: err}
	}
	if r.JSONRPC != "2.0" {
		return &Error{Kind: ErrBadResponse, Method: method, Message: "answer is not JSON-RPC 2.0"}
	}
	if r.Error != nil {
		// A request refused as a whole (parse error, batch limit) has a
		// null id; any other error must be ours.
		if !idIs(r.ID, id) && string(r.ID) != "null" {
			return &Error{Kind: ErrBadResponse, Method: method, Message: fmt.Sprintf("answer has id %s, want %d", r.ID, id)}
		}
		e := &Error{Kind: ErrRPC, Method: method, Code: r.Error.Code, Message: r.Error.Message, Data: r.Error.Data}
		var d struct {
			Reason string `json:"reason"`
		}
		if len(r.Error.Data) > 0 && json.Unmarshal(r.Error.Data, &d) == nil {
			e.Reason = d.Reason
		}
		return e
	}
	if !idIs(r.ID, id) {
		return &Error{Kind: ErrBadResponse, Method: method, Message: fmt.Sprintf("answer has id %s, want %d", r.ID, id)}
	}
	if r.Result == nil {
		return &Error{Kind: ErrBadResponse, Method: method, Message: "answer has neither result nor error"}
	}
	if result == nil {
		return nil
	}
	if raw, ok := result.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], r.Result...)
		return nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return &Error{Kind: ErrBadResponse, Method: method, Message: "result does not decode", Cause: err}
	}
	return nil
}

func idIs(raw json.RawMessage, id uint64) bool {
	var got uint64
	return json.Unmarshal(raw, &got) == nil && got == id
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// method and URL the message already gives.
func unwrapURLError(err error) error {
	if u, ok := errors.AsType[*url.Error](err); ok && u.Err != nil {
		return u.Err
	}
	return err
}

// redirectTarget is a redirect's Location for an error message: quoted
// (it is the node's text, possibly hostile) and shortened.
func redirectTarget(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "nowhere (no Location header)"
	}
	if len(loc) > 200 {
		loc = loc[:200] + "…"
	}
	return strconv.Quote(loc)
}

// firstLine is the start of a non-JSON-RPC body, for an error message.
func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSpace(s)
}
