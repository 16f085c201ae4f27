package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"qntx/sdk-go/domains"
)

// rootCommand is the plugin's command group, named like the plugin as QNTX's CLI mounts it:
// its subcommands are `qntx goplug greet` and `qntx goplug notes`. Built afresh at every
// call, so one run's flags never leak into the next.
func (p *MyPlugin) rootCommand() *cobra.Command {
	root := &cobra.Command{Use: pluginName, Short: "goplug's commands"}

	var shout bool
	var times int
	greet := &cobra.Command{
		Use:   "greet [name]",
		Short: "print the configured greeting",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "world"
			if len(args) == 1 {
				name = args[0]
			}
			if times < 1 || times > 10 {
				return &domains.ExitError{Code: 2, Err: fmt.Errorf("--times must be from 1 to 10, got %d", times)}
			}
			line := p.currentGreeting() + ", " + name + "!"
			if shout {
				line = strings.ToUpper(line)
			}
			for i := 0; i < times; i++ {
				cmd.Println(line)
			}
			return nil
		},
	}
	greet.Flags().BoolVar(&shout, "shout", false, "in capitals")
	greet.Flags().IntVarP(&times, "times", "n", 1, "how many times")

	var subject string
	notes := &cobra.Command{
		Use:   "notes",
		Short: "list the notes stored as attestations (exit code 3 when there are none)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			store := p.store()
			if store == nil {
				return fmt.Errorf("the host offers no attestation store")
			}
			filter := domains.AttestationFilter{Predicates: []string{notePredicate}, Contexts: []string{noteContext}, Limit: 100}
			if subject != "" {
				filter.Subjects = []string{subject}
			}
			found, err := store.GetAttestations(filter)
			if err != nil {
				return err
			}
			if len(found) == 0 {
				return &domains.ExitError{Code: 3, Err: fmt.Errorf("no notes%s", map[bool]string{true: " on " + subject, false: ""}[subject != ""])}
			}
			for _, as := range found {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%v\n", as.ID, strings.Join(as.Subjects, ","), as.Attributes["text"])
			}
			return nil
		},
	}
	notes.Flags().StringVar(&subject, "subject", "", "only the notes on this subject")

	root.AddCommand(greet, notes)
	return root
}
