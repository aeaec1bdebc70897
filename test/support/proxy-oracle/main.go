// Go's own proxy rules (golang.org/x/net/http/httpproxy, which docker, skopeo, crane and regctl
// use) as a filter for the differential test: one JSON request per line in, one JSON verdict out.
package main

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"

	"golang.org/x/net/http/httpproxy"
)

type request struct {
	HTTPProxy  string `json:"httpProxy"`
	HTTPSProxy string `json:"httpsProxy"`
	NoProxy    string `json:"noProxy"`
	URL        string `json:"url"`
}

type verdict struct {
	Proxy string `json:"proxy"`
	Error string `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r request
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			out.Encode(verdict{Error: err.Error()})
			continue
		}
		target, err := url.Parse(r.URL)
		if err != nil {
			out.Encode(verdict{Error: err.Error()})
			continue
		}
		config := httpproxy.Config{HTTPProxy: r.HTTPProxy, HTTPSProxy: r.HTTPSProxy, NoProxy: r.NoProxy}
		proxy, err := config.ProxyFunc()(target)
		switch {
		case err != nil:
			out.Encode(verdict{Error: err.Error()})
		case proxy == nil:
			out.Encode(verdict{})
		default:
			out.Encode(verdict{Proxy: proxy.String()})
		}
	}
}
