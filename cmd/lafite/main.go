// Command lafite is the command-line tool of the engine: thin wiring of flags
// to the packages, each subcommand in a file of its own that registers itself.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; called from init() in the command's file.
func register(name, summary string, run func(args []string, stdout io.Writer) error) {
	commands[name] = command{summary, run}
}

func usage() string {
	var b strings.Builder
	b.WriteString("lafite: language-free text-to-image generation (Lafite) on a pure-Go engine\n\n")
	b.WriteString("usage: lafite <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'lafite <command> -h' for a command's flags.\n")
	return b.String()
}

// run dispatches args (without the program name); the exit code is returned
// so tests can drive the CLI in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"demo"}
		if _, ok := commands["demo"]; !ok {
			fmt.Fprint(stdout, usage())
			return 0
		}
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return 0
	}
	// Flags without a command are the default command's: `lafite --out x`.
	if strings.HasPrefix(args[0], "-") {
		if _, ok := commands["demo"]; ok {
			args = append([]string{"demo"}, args...)
		}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lafite: unknown command %q\n\n%s", args[0], usage())
		return 2
	}
	if err := c.run(args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "lafite %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lafite "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
