// trustfile: which of the files an image's OpenSSL or Java would read serves the enterprise
// CA, as the container sees it (its mounts resolved by the runtime). Static, so it runs over
// any image family's root.
// usage: trustfile CA_PEM_BASE64 STORE_SHA256 PATH...
// For each PATH, one line: PATH, a tab, then "yes" when PATH is a file holding the CA (a PEM
// block of it) or the store of that digest, or a directory in which OpenSSL's lookup would
// find it (a file named <subject hash>.<n>, the only names OpenSSL opens there, holding
// it); "no: WHY" otherwise. Exit 0 unless the arguments are wrong.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

var hashName = regexp.MustCompile(`^[0-9a-f]{8}\.[0-9]+$`)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: trustfile CA_PEM_BASE64 STORE_SHA256 PATH...")
		os.Exit(2)
	}
	caPEM, err := base64.StdEncoding.DecodeString(os.Args[1])
	block, _ := pem.Decode(caPEM)
	if err != nil || block == nil {
		fmt.Fprintln(os.Stderr, "the CA is not base64 of a PEM certificate")
		os.Exit(2)
	}
	for _, path := range os.Args[3:] {
		fmt.Printf("%s\t%s\n", path, verdict(path, block.Bytes, os.Args[2]))
	}
}

func verdict(path string, ca []byte, store string) string {
	info, err := os.Stat(path)
	if err != nil {
		return "no: " + err.Error()
	}
	if !info.IsDir() {
		return file(path, ca, store)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return "no: " + err.Error()
	}
	hashed := 0
	for _, entry := range entries {
		if !hashName.MatchString(entry.Name()) {
			continue
		}
		hashed++
		if file(filepath.Join(path, entry.Name()), ca, store) == "yes" {
			return "yes"
		}
	}
	return fmt.Sprintf("no: none of its %d hash-named entries (of %d) holds the CA", hashed, len(entries))
}

func file(path string, ca []byte, store string) string {
	content, err := os.ReadFile(path)
	if err != nil {
		return "no: " + err.Error()
	}
	digest := sha256.Sum256(content)
	if hex.EncodeToString(digest[:]) == store {
		return "yes"
	}
	for rest := content; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return "no: the CA is not in it"
		}
		if bytes.Equal(block.Bytes, ca) {
			return "yes"
		}
	}
}
