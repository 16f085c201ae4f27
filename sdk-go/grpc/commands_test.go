package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"qntx/sdk-go/domains"
	"qntx/sdk-go/protocol"
)

// commandTree is a plugin's commands as QNTX's guide writes them: a group named like the
// plugin, plus one top-level command of its own. shared, when set, is returned every time (a
// plugin that builds its commands once), to check one run's flags never reach the next.
func commandTree(shared *[]*cobra.Command) func() []*cobra.Command {
	build := func() []*cobra.Command {
		var shout bool
		root := &cobra.Command{Use: "cmds"}
		greet := &cobra.Command{Use: "greet [name]", Short: "greets", RunE: func(cmd *cobra.Command, args []string) error {
			line := "hello " + strings.Join(args, " ")
			if shout {
				line = strings.ToUpper(line)
			}
			cmd.Println(line)
			return nil
		}}
		greet.Flags().BoolVar(&shout, "shout", false, "in capitals")
		greet.Flags().StringP("lang", "l", "en", "language")
		fail := &cobra.Command{Use: "fail", Short: "fails", RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.ErrOrStderr(), "about to fail")
			if len(args) > 0 {
				return &domains.ExitError{Code: 4, Err: errors.New("exit four")}
			}
			return errors.New("plain failure")
		}}
		fail.SilenceUsage = true
		cat := &cobra.Command{Use: "cat", Short: "copies stdin", Annotations: map[string]string{"qntx:reads-stdin": "true"},
			RunE: func(cmd *cobra.Command, args []string) error {
				b, _ := io.ReadAll(cmd.InOrStdin())
				call := domains.CommandCallFrom(cmd.Context())
				fmt.Fprintf(cmd.OutOrStdout(), "%s|%s|%s", b, call.Cwd, call.Env["X"])
				return nil
			}}
		boom := &cobra.Command{Use: "boom", Run: func(cmd *cobra.Command, args []string) { panic("bang") }}
		notes := &cobra.Command{Use: "notes", Short: "notes"}
		notes.AddCommand(&cobra.Command{Use: "list", Run: func(cmd *cobra.Command, args []string) { cmd.Println("listed", args) }})
		root.AddCommand(greet, fail, cat, boom, notes)
		standalone := &cobra.Command{Use: "solo", Short: "a top-level command", Run: func(cmd *cobra.Command, args []string) { cmd.Println("solo", args) }}
		hidden := &cobra.Command{Use: "secret", Hidden: true, Run: func(*cobra.Command, []string) {}}
		return []*cobra.Command{root, standalone, hidden}
	}
	return func() []*cobra.Command {
		if shared == nil {
			return build()
		}
		if *shared == nil {
			*shared = build()
		}
		return *shared
	}
}

func TestCommandsListTheGroupsSubcommandsAndTopLevelOnes(t *testing.T) {
	client, _ := startPlugin(t, &testPlugin{name: "cmds", commands: commandTree(nil)}, nil)
	resp, err := client.Client().Commands(context.Background(), &protocol.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]*protocol.CommandInfo{}
	for _, c := range resp.Commands {
		names = append(names, c.Name)
		byName[c.Name] = c
	}
	if strings.Join(names, ",") != "boom,cat,fail,greet,notes,solo" {
		t.Fatalf("commands %v", names)
	}
	g := byName["greet"]
	if g.Usage != "[name]" || g.Description != "greets" || len(g.Flags) != 2 {
		t.Errorf("greet %+v", g)
	}
	if g.Flags[0].Name != "lang" || !g.Flags[0].TakesValue || g.Flags[0].Short != "l" || g.Flags[0].DefaultValue != "en" ||
		g.Flags[1].Name != "shout" || g.Flags[1].TakesValue {
		t.Errorf("greet flags %+v", g.Flags)
	}
	if !byName["cat"].ReadsStdin || byName["greet"].ReadsStdin {
		t.Error("reads_stdin comes from the qntx:reads-stdin annotation")
	}
	if byName["notes"].Usage != "{list} …" {
		t.Errorf("notes usage %q", byName["notes"].Usage)
	}
}

func run(t *testing.T, client *PluginClient, req *protocol.ExecuteCommandRequest) (string, string, int32) {
	t.Helper()
	resp, err := client.Client().ExecuteCommand(context.Background(), req)
	if err != nil {
		t.Fatalf("ExecuteCommand %s: %v", req.Command, err)
	}
	return string(resp.Stdout), string(resp.Stderr), resp.ExitCode
}

func TestExecuteCommandCapturesOutputAndExitCodes(t *testing.T) {
	for _, shared := range []bool{false, true} {
		var tree []*cobra.Command
		var keep *[]*cobra.Command
		if shared {
			keep = &tree
		}
		client, _ := startPlugin(t, &testPlugin{name: "cmds", commands: commandTree(keep)}, nil)
		cases := []struct {
			req              *protocol.ExecuteCommandRequest
			stdout, inStderr string
			code             int32
		}{
			{&protocol.ExecuteCommandRequest{Command: "greet", Args: []string{"you"}, Flags: map[string]string{"shout": "true"}}, "HELLO YOU\n", "", 0},
			// The run before set --shout: it must not stay set.
			{&protocol.ExecuteCommandRequest{Command: "greet", Args: []string{"-dash"}}, "hello -dash\n", "", 0},
			{&protocol.ExecuteCommandRequest{Command: "fail"}, "", "about to fail\nError: plain failure", 1},
			{&protocol.ExecuteCommandRequest{Command: "fail", Args: []string{"x"}}, "", "Error: exit four", 4},
			{&protocol.ExecuteCommandRequest{Command: "greet", Flags: map[string]string{"nope": "1"}}, "", "unknown flag: --nope", 1},
			{&protocol.ExecuteCommandRequest{Command: "cat", Stdin: []byte("piped"), Cwd: "/work", Env: map[string]string{"X": "y"}}, "piped|/work|y", "", 0},
			{&protocol.ExecuteCommandRequest{Command: "notes", Args: []string{"list", "a"}}, "listed [a]\n", "", 0},
			{&protocol.ExecuteCommandRequest{Command: "solo", Args: []string{"b"}}, "solo [b]\n", "", 0},
			{&protocol.ExecuteCommandRequest{Command: "boom"}, "", "panic: bang", 1},
			{&protocol.ExecuteCommandRequest{Command: "nope"}, "", `unknown command "nope"`, 2},
			// After a panic the server still runs commands.
			{&protocol.ExecuteCommandRequest{Command: "greet"}, "hello \n", "", 0},
		}
		for _, c := range cases {
			stdout, stderr, code := run(t, client, c.req)
			if stdout != c.stdout || code != c.code || !strings.Contains(stderr, c.inStderr) {
				t.Errorf("shared=%v %s %v %v: stdout %q stderr %q code %d; want %q, stderr containing %q, %d",
					shared, c.req.Command, c.req.Args, c.req.Flags, stdout, stderr, code, c.stdout, c.inStderr, c.code)
			}
		}
	}
}
