// Package testproc is test support for tests that run the real binaries:
// it builds them once (Build), runs each as a child process whose output
// goes both to a log file and to an in-memory buffer (Start, Proc), waits
// for a log line, signals, kills and reaps the process, and kills it when
// the test ends whatever happened. Output collected from a process
// started some other way can be waited on too (Buffer.WaitMatch). It
// also finds free loopback ports (FreePorts, PortsFree) and strips
// settings from the environment (EnvWithout).
//
// It is for _test.go files only: nothing outside tests may import it.
//
// What it does not do: it does not know what the processes are (no node
// or wallet logic), it never talks to the network itself except to probe
// ports on 127.0.0.1, and it does not retry anything.
//
// Process lifetime: Start registers a cleanup on the test that kills the
// process (SIGKILL, after a graceful SIGTERM if Spec.GracefulStop asks for
// one), reaps it and closes its log file, so no process outlives its
// test, and a test's temporary directory is removed only after its
// processes are gone (cleanups run last-registered first: create the
// directory before starting the process). On Linux the child also gets
// SIGKILL from the kernel if the test binary dies without running its
// cleanups (a -timeout panic, a crash), so a failed run leaves no node
// running.
//
// Concurrency: a Proc's methods are safe for concurrent use. One
// goroutine per process (started by Start) waits for it to exit and
// records the result; the output buffer (Buffer) has its own mutex, for
// exec's copying goroutine and the readers.
//
// Errors: failures of this package are *Error values with an ErrorKind
// (ErrBuild, ErrStart, ErrTimeout, ErrExited, ErrNoPorts), matched with
// errors.Is; a process's own exit status is returned as the
// *exec.ExitError that os/exec reports.
package testproc
