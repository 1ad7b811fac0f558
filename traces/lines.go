package traces

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader splits its input into lines, tolerating "\n" and "\r\n" line
// endings, a missing final line ending and a UTF-8 byte-order mark, and
// flagging (without returning) lines longer than MaxLineBytes.
type lineReader struct {
	r    *bufio.Reader
	long []byte // holds a line longer than the bufio buffer
	n    int    // number of the line last returned
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its line ending and its 1-based
// number in lr.n. The line is valid until the next call. tooLong is true,
// and the line empty, when it exceeds MaxLineBytes. At the end of the input
// next returns io.EOF; any other error is a read error.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.long = lr.long[:0]
	over := false
	for {
		frag, err := lr.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !over && len(lr.long)+len(frag) <= MaxLineBytes+2 {
				lr.long = append(lr.long, frag...)
			} else {
				over = true
				lr.long = lr.long[:0]
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		if err != nil && len(frag) == 0 && len(lr.long) == 0 && !over {
			return nil, false, io.EOF
		}
		lr.n++
		line = frag
		if over {
			return nil, true, nil
		}
		if len(lr.long) > 0 {
			lr.long = append(lr.long, frag...)
			line = lr.long
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > MaxLineBytes {
			return nil, true, nil
		}
		if lr.n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		return line, false, nil
	}
}

// blank reports whether a line holds only spaces and tabs.
func blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}
