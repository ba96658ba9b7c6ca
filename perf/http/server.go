// perf/http/server.go: the Go peer of api/examples/http, on net/http with the same
// routes and response headers: GET /plaintext -> "Hello, World!", GET /counter ->
// {"count":N} from an atomic counter, 405 for other methods on those paths, 404 else.
// Usage: server PORT (0: a free port); prints "listening on port N".
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: server PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var count atomic.Int64
	route := func(path, ctype string, body func() []byte) {
		http.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Server"] = []string{"go"}
			if r.Method != http.MethodGet {
				h["Allow"] = []string{"GET"}
				http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
				return
			}
			b := body()
			h["Content-Type"] = []string{ctype}
			h["Content-Length"] = []string{strconv.Itoa(len(b))}
			w.Write(b)
		})
	}
	hello := []byte("Hello, World!")
	route("/plaintext", "text/plain", func() []byte { return hello })
	route("/counter", "application/json", func() []byte {
		return []byte(fmt.Sprintf("{\"count\":%d}", count.Add(1)))
	})
	fmt.Printf("listening on port %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
	os.Exit(1)
}
