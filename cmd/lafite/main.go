// Command lafite is the command-line tool of the engine: thin wiring of flags
// to the packages, each subcommand in a file of its own.
package main

import (
	"fmt"
	"os"
)

const usage = `lafite: language-free text-to-image generation (Lafite) on a pure-Go engine

usage: lafite <command> [flags]

commands:
  help      print this help

Run 'lafite <command> -h' for a command's flags.
`

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Print(usage)
		return
	}
	fmt.Fprintf(os.Stderr, "lafite: unknown command %q\n\n%s", os.Args[1], usage)
	os.Exit(2)
}
