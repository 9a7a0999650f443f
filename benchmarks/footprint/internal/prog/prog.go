// Package prog is what every footprint program does around its job: report
// a failure and exit, and read its input from the file its argument names
// or from standard input. It links nothing the programs' sizes compare.
package prog

import (
	"fmt"
	"io"
	"os"
)

// Main runs run and, if it fails, prints the error after name and exits
// with status 1.
func Main(name string, run func() error) {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Input opens the file named by the program's first argument, or returns
// standard input when there is none.
func Input() (io.ReadCloser, error) {
	if len(os.Args) > 1 {
		return os.Open(os.Args[1])
	}
	return os.Stdin, nil
}
