package domains

import (
	"context"
	"strconv"
)

// CommandCall is what a command run through the host (`qntx <plugin> <command>`) was called
// with beyond its arguments and flags: the caller's environment (only what the caller chose
// to send) and working directory. The plugin process keeps its own; a command that resolves
// relative paths should resolve them against Cwd.
type CommandCall struct {
	Env map[string]string
	Cwd string
}

type commandCallKey struct{}

// WithCommandCall returns ctx carrying call. The SDK's server sets it on the context of every
// command it runs (cobra's cmd.Context()).
func WithCommandCall(ctx context.Context, call *CommandCall) context.Context {
	return context.WithValue(ctx, commandCallKey{}, call)
}

// CommandCallFrom returns the CommandCall of a command's context (cmd.Context()), or nil when
// the command was not run through the host.
func CommandCallFrom(ctx context.Context) *CommandCall {
	if ctx == nil {
		return nil
	}
	call, _ := ctx.Value(commandCallKey{}).(*CommandCall)
	return call
}

// ExitCoder is an error carrying a command's exit code: a command's RunE returning one makes
// that the exit code (any other error is exit code 1).
type ExitCoder interface {
	error
	ExitCode() int
}

// ExitError is a ready ExitCoder.
type ExitError struct {
	Code int
	Err  error
}

// Error returns the wrapped error's text.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return "exit status " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

// ExitCode returns Code.
func (e *ExitError) ExitCode() int { return e.Code }

// Unwrap returns Err.
func (e *ExitError) Unwrap() error { return e.Err }
