// The docker CLI's own reference parser (distribution/reference, as Debian 13 packages it) as a
// filter for the differential test: one JSON string per line in, one JSON verdict per line out.
package main

import (
	"bufio"
	_ "crypto/sha256" // without these every digest is "unsupported", as in the docker CLI's build
	_ "crypto/sha512"
	"encoding/json"
	"os"

	"github.com/distribution/reference"
)

type verdict struct {
	Ok    bool   `json:"ok"`
	Ref   string `json:"ref,omitempty"`
	Error string `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			panic(err)
		}
		named, err := reference.ParseNormalizedNamed(s)
		if err != nil {
			enc.Encode(verdict{Error: err.Error()})
		} else {
			enc.Encode(verdict{Ok: true, Ref: named.String()})
		}
	}
}
