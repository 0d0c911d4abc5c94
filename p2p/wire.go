package p2p

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-msgio"
)

// ErrorKind classifies a protocol failure by a peer. It implements error;
// errors.Is(err, p2p.ErrFrameTooLarge) matches a *ProtocolError of that kind.
type ErrorKind string

// Error implements the error interface.
func (k ErrorKind) Error() string { return string(k) }

const (
	// ErrFrameTooLarge: a frame announced more bytes than its protocol
	// allows; the body is never read.
	ErrFrameTooLarge = ErrorKind("ErrFrameTooLarge")
	// ErrMalformed: a message does not decode.
	ErrMalformed = ErrorKind("ErrMalformed")
	// ErrWrongNetwork: the peer is on a network with another genesis.
	ErrWrongNetwork = ErrorKind("ErrWrongNetwork")
	// ErrProtocol: the peer broke the protocol (asked for too much, sent
	// what was not asked for, answered out of order).
	ErrProtocol = ErrorKind("ErrProtocol")
	// ErrTimeout: the peer did not answer in time.
	ErrTimeout = ErrorKind("ErrTimeout")
	// ErrStreamClosed: the stream ended before or inside a frame. Peers
	// disconnect for honest reasons (shutdown, connection trimming), so
	// this costs no score; a peer that truncates on purpose only wastes
	// its own connection.
	ErrStreamClosed = ErrorKind("ErrStreamClosed")
)

// ProtocolError is a peer's protocol failure.
type ProtocolError struct {
	Kind        ErrorKind
	Description string
}

// Error implements the error interface.
func (e *ProtocolError) Error() string { return e.Description }

// Unwrap lets errors.Is match the kind.
func (e *ProtocolError) Unwrap() error { return e.Kind }

func protocolError(kind ErrorKind, format string, args ...any) *ProtocolError {
	return &ProtocolError{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

// writeFrame writes one varint-length-prefixed frame.
func writeFrame(w io.Writer, payload []byte) error {
	return msgio.NewVarintWriter(w).WriteMsg(payload)
}

// readFrame reads one varint-length-prefixed frame of at most max bytes.
// The length is checked before the body is read or allocated.
func readFrame(r io.Reader, max int) ([]byte, error) {
	rd := msgio.NewVarintReaderSize(r, max)
	msg, err := rd.ReadMsg()
	switch {
	case errors.Is(err, msgio.ErrMsgTooLarge):
		return nil, protocolError(ErrFrameTooLarge, "frame larger than %d bytes", max)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, protocolError(ErrStreamClosed, "stream ended inside a frame")
	case err != nil:
		if isTimeout(err) {
			return nil, protocolError(ErrTimeout, "peer did not answer in time")
		}
		return nil, err
	}
	return msg, nil
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// streamDeadline bounds every request/response exchange.
const streamDeadline = 15 * time.Second

// setDeadline puts a deadline on a stream; every stream gets one.
func setDeadline(s network.Stream, d time.Duration) {
	_ = s.SetDeadline(time.Now().Add(d))
}
