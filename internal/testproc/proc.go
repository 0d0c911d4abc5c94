package testproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timing of the waits. pollInterval is how often WaitLog looks at the
// output; reapTimeout bounds the wait for a killed process to be reaped.
const (
	pollInterval = 25 * time.Millisecond
	reapTimeout  = 10 * time.Second
	// waitDelay bounds how long Wait waits for the output pipe to close
	// after the process exited (a grandchild may hold it open).
	waitDelay = 5 * time.Second
)

// Spec says what to run.
type Spec struct {
	// Path is the binary; Args its arguments (without the program name).
	Path string
	Args []string
	// Env is the whole environment; nil means this process's.
	Env []string
	// Dir is the working directory; empty means this process's.
	Dir string
	// LogFile, if set, receives the output too, appended (created 0600
	// if missing), so it survives the test for a post-mortem.
	LogFile string
	// Name names the process in messages; the binary's base name if
	// empty.
	Name string
	// GracefulStop, if positive, makes the test's cleanup send SIGTERM
	// and wait this long before it kills; zero kills at once.
	GracefulStop time.Duration
}

// Proc is a started process. Standard output and standard error both go,
// interleaved, to one Buffer (and the log file).
type Proc struct {
	name string
	cmd  *exec.Cmd
	out  *Buffer
	log  *os.File // nil without Spec.LogFile; closed by the cleanup

	done chan struct{} // closed once the process has been reaped
	// err is cmd.Wait's result; written by the waiting goroutine before
	// it closes done, read only after done is closed.
	err error
}

// tee writes to the buffer and, best effort, the log file: a failing log
// file must not stop the copy (the child would block on a full pipe).
type tee struct {
	buf *Buffer
	log *os.File
}

func (w *tee) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if w.log != nil {
		w.log.Write(p)
	}
	return len(p), nil
}

// Start starts spec's process and registers a cleanup on t that stops it
// (see Spec.GracefulStop), reaps it and closes its log file. It may be
// called from any goroutine; t is used only for Cleanup.
func Start(t testing.TB, spec Spec) (*Proc, error) {
	p := &Proc{name: spec.Name, out: &Buffer{}, done: make(chan struct{})}
	if p.name == "" {
		p.name = filepath.Base(spec.Path)
	}
	if spec.LogFile != "" {
		f, err := os.OpenFile(spec.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, wrapf(ErrStart, err, "%s: log file", p.name)
		}
		p.log = f
	}
	p.cmd = exec.Command(spec.Path, spec.Args...)
	p.cmd.Env, p.cmd.Dir = spec.Env, spec.Dir
	w := &tee{buf: p.out, log: p.log}
	p.cmd.Stdout, p.cmd.Stderr = w, w // the same writer: one pipe, one copier
	p.cmd.SysProcAttr = childAttr()
	p.cmd.WaitDelay = waitDelay
	if err := p.cmd.Start(); err != nil {
		if p.log != nil {
			p.log.Close()
		}
		return nil, wrapf(ErrStart, err, "starting %s", p.name)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if spec.GracefulStop > 0 && !p.Exited() {
			p.Stop(spec.GracefulStop)
		}
		p.Kill9()
		if p.log != nil {
			p.log.Close()
		}
	})
	return p, nil
}

// Name is the process's name in messages.
func (p *Proc) Name() string { return p.name }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output is the buffer collecting the process's output.
func (p *Proc) Output() *Buffer { return p.out }

// String is all the output so far.
func (p *Proc) String() string { return p.out.String() }

// Tail is the last n lines of output, for failure messages.
func (p *Proc) Tail(n int) string { return p.out.Tail(n) }

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited and been reaped.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is the process's exit (nil for status 0, an *exec.ExitError
// otherwise); only meaningful once Exited.
func (p *Proc) ExitErr() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Signal sends sig to the process; os.ErrProcessDone once it has exited.
func (p *Proc) Signal(sig os.Signal) error {
	if p.Exited() {
		return os.ErrProcessDone
	}
	return p.cmd.Process.Signal(sig)
}

// Kill9 kills the process with SIGKILL, as `kill -9` does (no chance to
// clean up), and waits until it has been reaped. Killing an exited
// process does nothing.
func (p *Proc) Kill9() error {
	if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(reapTimeout):
		return errorf(ErrTimeout, "%s not reaped %v after SIGKILL", p.name, reapTimeout)
	}
}

// Wait waits up to timeout for the process to exit and returns its exit
// (nil for status 0, an *exec.ExitError otherwise), or an ErrTimeout
// error if it is still running.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return errorf(ErrTimeout, "%s still running after %v", p.name, timeout)
	}
}

// Stop sends SIGTERM and waits up to timeout for the exit, which it
// returns; if the process is still running then, it is killed and the
// ErrTimeout error returned.
func (p *Proc) Stop(timeout time.Duration) error {
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping %s: %w", p.name, err)
	}
	err := p.Wait(timeout)
	if errors.Is(err, ErrTimeout) {
		p.Kill9()
		return errorf(ErrTimeout, "%s did not exit within %v of SIGTERM; killed", p.name, timeout)
	}
	return err
}

// WaitLog waits until the output holds a match of re and returns the
// match and its submatches. Each line is searched once it is complete
// (the partial last line too, until then), so re should match within one
// line; a match spanning lines is found only if they arrived together. It fails with ErrExited when the process
// exits without printing one, and ErrTimeout after timeout; both errors
// carry the last lines of output.
func (p *Proc) WaitLog(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	return p.WaitLogFrom(0, re, timeout)
}

// WaitLogFrom is WaitLog looking only at the output from byte offset off
// on (take it from Output().Len() before causing what should be logged).
func (p *Proc) WaitLogFrom(off int, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	m, err := waitMatch(p.out, off, re, timeout, p.done)
	switch {
	case errors.Is(err, ErrExited):
		return nil, errorf(ErrExited, "%s exited (%v) without logging a match of %s; last output:\n%s", p.name, p.err, re, p.Tail(40))
	case err != nil:
		return nil, errorf(ErrTimeout, "%s logged no match of %s in %v; last output:\n%s", p.name, re, timeout, p.Tail(40))
	}
	return m, nil
}

// WaitMatch waits until what was written to b holds a match of re, as
// Proc.WaitLog does, for output collected by a process started some
// other way; it fails with ErrTimeout (carrying the last lines) after
// timeout.
func (b *Buffer) WaitMatch(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	m, err := waitMatch(b, 0, re, timeout, nil)
	if err != nil {
		return nil, errorf(ErrTimeout, "no match of %s in %v; last output:\n%s", re, timeout, b.Tail(40))
	}
	return m, nil
}

// waitMatch polls b from offset off for a match of re until timeout, or
// until done (if not nil) is closed with no match in the output by then.
func waitMatch(b *Buffer, off int, re *regexp.Regexp, timeout time.Duration, done <-chan struct{}) ([]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	// scanned: output before it holds only complete lines already
	// searched. Lines are searched once each, plus the partial last one
	// until it is complete.
	scanned := off
	search := func() []string {
		s := b.From(scanned)
		m := re.FindStringSubmatch(s)
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			scanned += i + 1
		}
		return m
	}
	for {
		if m := search(); m != nil {
			return m, nil
		}
		select {
		case <-done:
			if m := search(); m != nil { // written just before the exit
				return m, nil
			}
			return nil, ErrExited
		case <-deadline.C:
			return nil, ErrTimeout
		case <-tick.C:
		}
	}
}
