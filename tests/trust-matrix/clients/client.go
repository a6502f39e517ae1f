// Go net/http: crypto/x509's system roots, which on Linux are SSL_CERT_FILE and
// SSL_CERT_DIR when set, else the first of its list of bundle files that exists
// (/etc/ssl/certs/ca-certificates.crt first); or, given CA, a pool of that PEM file only.
// usage: go-client URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is not
// trusted; other: failed for another reason
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	client := &http.Client{Timeout: 10 * time.Second}
	if len(os.Args) > 2 {
		pem, err := os.ReadFile(os.Args[2])
		if err != nil {
			fail(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail(fmt.Errorf("no certificate in %s", os.Args[2]))
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	response, err := client.Get(os.Args[1])
	var unknownAuthority x509.UnknownAuthorityError
	if errors.As(err, &unknownAuthority) {
		fmt.Println("untrusted:", err)
		os.Exit(3)
	}
	if err != nil {
		fail(err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil || response.StatusCode != http.StatusOK {
		fail(fmt.Errorf("HTTP %d: %v", response.StatusCode, err))
	}
	os.Stdout.Write(body)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
