package traces

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// Read reads an Azure or Mooncake trace from r; name (usually the file
// name) prefixes every error. opt.Format "" infers the format from the
// first non-blank byte. The Report accounts for every row; with
// opt.OnError Stop the first bad row is an error and no trace is returned,
// with Skip bad rows are left out and reading fails only when none is
// usable. Read never panics, whatever r holds.
func Read(r io.Reader, name string, opt Options) (*Trace, Report, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, Report{}, fmt.Errorf("%s: %w", name, err)
	}
	lr := newLineReader(r)
	if opt.Format == "" {
		if opt.Format, err = sniff(lr.r); err != nil {
			return nil, Report{}, fmt.Errorf("%s: read: %w", name, err)
		}
	}
	c := &collector{name: name, opt: opt}
	var t *Trace
	switch opt.Format {
	case Azure:
		t, err = readAzure(lr, c)
	case Mooncake:
		t, err = readMooncake(lr, c)
	default:
		return nil, Report{}, fmt.Errorf("%s: format %s holds sessions: use ReadSessions", name, opt.Format)
	}
	if err != nil {
		return nil, c.rep, err
	}
	return t, c.rep, nil
}

// Open reads the Azure or Mooncake trace in the file at path, as Read does;
// errors name the file by path.
func Open(path string, opt Options) (*Trace, Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Report{}, err // *PathError names the file
	}
	defer f.Close()
	return Read(f, path, opt)
}

// sniff guesses the format from the first non-blank byte: '{' is
// Mooncake, anything else (or nothing) Azure.
func sniff(r *bufio.Reader) (Format, error) {
	for n := 1; ; n++ {
		b, err := r.Peek(n)
		if len(b) < n {
			if err == io.EOF {
				return Azure, nil
			}
			return "", err
		}
		switch c := b[n-1]; {
		case c == ' ', c == '\t', c == '\r', c == '\n':
		case n <= 3 && c == "\xef\xbb\xbf"[n-1] && string(b) == "\xef\xbb\xbf"[:n]:
		case c == '{':
			return Mooncake, nil
		default:
			return Azure, nil
		}
		if n >= 4096 {
			return Azure, nil
		}
	}
}
