package grpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// readsStdinAnnotation marks a cobra command that reads standard input: the CLI sends its
// stdin only to such commands (`Annotations: map[string]string{"qntx:reads-stdin": "true"}`).
const readsStdinAnnotation = "qntx:reads-stdin"

// exposed is one command as the host sees it, and how to run it.
type exposed struct {
	cmd *cobra.Command
	// runner is executed with runnerArgs + the call's flags and args.
	runner     *cobra.Command
	runnerArgs []string
}

// exposedCommands maps the plugin's cobra commands to host commands (`qntx <plugin> <name>`).
// A top-level command named like the plugin with subcommands is the plugin's command group,
// as QNTX's CLI mounts it (`qntx <plugin> <sub>`): its subcommands are the commands. Every
// other top-level command is a command by its own name. Deeper subcommands are reached
// through their parent's arguments (`qntx <plugin> notes list`).
func exposedCommands(plugin string, commands []*cobra.Command) map[string]exposed {
	out := map[string]exposed{}
	var synthetic *cobra.Command
	for _, c := range commands {
		if c == nil {
			continue
		}
		if c.Name() == plugin && c.HasSubCommands() {
			c.CompletionOptions.DisableDefaultCmd = true
			for _, sub := range c.Commands() {
				if visible(sub) {
					out[sub.Name()] = exposed{cmd: sub, runner: c, runnerArgs: []string{sub.Name()}}
				}
			}
			if c.Runnable() && visible(c) {
				if _, taken := out[c.Name()]; !taken {
					out[c.Name()] = exposed{cmd: c, runner: c}
				}
			}
			continue
		}
		if !visible(c) {
			continue
		}
		if c.HasParent() {
			// Already in another tree: run it through that tree's root.
			out[c.Name()] = exposed{cmd: c, runner: c.Root(), runnerArgs: commandPath(c)}
			continue
		}
		if synthetic == nil {
			synthetic = &cobra.Command{Use: plugin}
			synthetic.CompletionOptions.DisableDefaultCmd = true
		}
		synthetic.AddCommand(c)
		out[c.Name()] = exposed{cmd: c, runner: synthetic, runnerArgs: []string{c.Name()}}
	}
	return out
}

func visible(c *cobra.Command) bool {
	return !c.Hidden && c.Name() != "help" && c.Name() != "completion"
}

// commandPath is c's names from below its root down to c.
func commandPath(c *cobra.Command) []string {
	var path []string
	for ; c.HasParent(); c = c.Parent() {
		path = append([]string{c.Name()}, path...)
	}
	return path
}

// Commands lists the plugin's cobra commands (CommandsResponse); Commands() is called afresh.
func (s *PluginServer) Commands(ctx context.Context, _ *protocol.Empty) (*protocol.CommandsResponse, error) {
	s.commandMu.Lock()
	defer s.commandMu.Unlock()
	all := exposedCommands(s.plugin.Metadata().Name, s.plugin.Commands())
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)
	resp := &protocol.CommandsResponse{}
	for _, name := range names {
		resp.Commands = append(resp.Commands, commandInfo(name, all[name].cmd))
	}
	return resp, nil
}

func commandInfo(name string, c *cobra.Command) *protocol.CommandInfo {
	info := &protocol.CommandInfo{
		Name:        name,
		Description: c.Short,
		Usage:       strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.Use), c.Name())),
		ReadsStdin:  c.Annotations[readsStdinAnnotation] == "true",
	}
	if info.Description == "" {
		info.Description = strings.SplitN(strings.TrimSpace(c.Long), "\n", 2)[0]
	}
	if info.Usage == "" && c.HasSubCommands() {
		var subs []string
		for _, sub := range c.Commands() {
			if visible(sub) {
				subs = append(subs, sub.Name())
			}
		}
		info.Usage = "{" + strings.Join(subs, "|") + "} …"
	}
	seen := map[string]bool{}
	add := func(f *pflag.Flag) {
		if seen[f.Name] || f.Name == "help" || f.Hidden {
			return
		}
		seen[f.Name] = true
		info.Flags = append(info.Flags, &protocol.CommandFlag{
			Name: f.Name, Description: f.Usage, TakesValue: f.NoOptDefVal == "",
			DefaultValue: f.DefValue, Short: f.Shorthand,
		})
	}
	c.Flags().VisitAll(add)
	c.PersistentFlags().VisitAll(add)
	for p := c.Parent(); p != nil; p = p.Parent() {
		p.PersistentFlags().VisitAll(add)
	}
	sort.Slice(info.Flags, func(i, j int) bool { return info.Flags[i].Name < info.Flags[j].Name })
	return info
}

// ExecuteCommand runs one of the plugin's cobra commands with the call's arguments, flags and
// stdin, its output captured: what the command writes to cmd.OutOrStdout() / cmd.Println is
// stdout, cmd.ErrOrStderr() stderr. The exit code is 0, an ExitCoder's code, or 1 for any other
// error (cobra's "Error: …" and usage go to stderr). The command's context (cmd.Context())
// ends with the call and carries domains.CommandCallFrom (env, cwd). One command runs at a
// time. A command must not call os.Exit, which would end the plugin, nor print with fmt to
// os.Stdout, which is the plugin's log.
func (s *PluginServer) ExecuteCommand(ctx context.Context, req *protocol.ExecuteCommandRequest) (resp *protocol.ExecuteCommandResponse, err error) {
	s.commandMu.Lock()
	defer s.commandMu.Unlock()
	all := exposedCommands(s.plugin.Metadata().Name, s.plugin.Commands())
	target, ok := all[req.Command]
	if !ok {
		names := make([]string, 0, len(all))
		for name := range all {
			names = append(names, name)
		}
		sort.Strings(names)
		msg := fmt.Sprintf("%s: unknown command %q (its commands: %s)\n", s.plugin.Metadata().Name, req.Command, strings.Join(names, ", "))
		return &protocol.ExecuteCommandResponse{Stderr: []byte(msg), ExitCode: 2}, nil
	}

	var stdout, stderr bytes.Buffer
	runner := target.runner
	resetFlags(runner)
	runner.SetOut(&stdout)
	runner.SetErr(&stderr)
	runner.SetIn(bytes.NewReader(req.Stdin))
	runner.SetArgs(commandArgs(target.runnerArgs, req))
	defer func() {
		runner.SetOut(nil)
		runner.SetErr(nil)
		runner.SetIn(nil)
		if v := recover(); v != nil {
			s.logger.Errorw("command panicked", "command", req.Command, "panic", fmt.Sprint(v))
			fmt.Fprintf(&stderr, "panic: %v\n", v)
			resp, err = &protocol.ExecuteCommandResponse{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: 1}, nil
		}
	}()

	// Cobra prints the usage after an error to the command's stdout; a CLI's usage on error
	// belongs on stderr, so it is printed here instead, when the command would have shown it.
	silenced := silenceUsage(runner)
	defer restoreUsage(silenced)
	failed, runErr := runner.ExecuteContextC(domains.WithCommandCall(ctx, &domains.CommandCall{Env: req.Env, Cwd: req.Cwd}))
	code := int32(0)
	if runErr != nil {
		code = 1
		var coder domains.ExitCoder
		if errors.As(runErr, &coder) {
			code = int32(coder.ExitCode())
		}
		// With SilenceErrors cobra printed nothing: say what failed.
		if runner.SilenceErrors || (failed != nil && failed.SilenceErrors) {
			fmt.Fprintf(&stderr, "Error: %v\n", runErr)
		}
		if failed != nil && !silenced[failed] && !silenced[runner] {
			fmt.Fprintln(&stderr, failed.UsageString())
		}
	}
	return &protocol.ExecuteCommandResponse{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}, nil
}

// commandArgs is the argument list for the runner: the path to the command, the flags as
// --name=value, then the positional arguments ("--" before them when one starts with "-", so
// that it stays an argument).
func commandArgs(path []string, req *protocol.ExecuteCommandRequest) []string {
	args := append([]string{}, path...)
	names := make([]string, 0, len(req.Flags))
	for name := range req.Flags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--"+name+"="+req.Flags[name])
	}
	for _, a := range req.Args {
		if strings.HasPrefix(a, "-") {
			args = append(args, "--")
			break
		}
	}
	return append(args, req.Args...)
}

// silenceUsage sets SilenceUsage on every command of the tree, returning what each had.
func silenceUsage(c *cobra.Command) map[*cobra.Command]bool {
	had := map[*cobra.Command]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		had[c] = c.SilenceUsage
		c.SilenceUsage = true
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(c)
	return had
}

func restoreUsage(had map[*cobra.Command]bool) {
	for c, silent := range had {
		c.SilenceUsage = silent
	}
}

// resetFlags puts back every changed scalar flag of the tree to its default, in case the
// plugin returns the same commands each time: one run's --shout must not reach the next.
func resetFlags(c *cobra.Command) {
	reset := func(f *pflag.Flag) {
		if !f.Changed {
			return
		}
		// Slice flags append on Set; they stay as they are (build commands afresh instead).
		if t := f.Value.Type(); strings.HasSuffix(t, "Slice") || strings.HasSuffix(t, "Array") {
			return
		}
		_ = f.Value.Set(f.DefValue)
		f.Changed = false
	}
	c.Flags().VisitAll(reset)
	c.PersistentFlags().VisitAll(reset)
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}
