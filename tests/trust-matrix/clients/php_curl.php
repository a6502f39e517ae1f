<?php
// PHP curl (libcurl, OpenSSL flavour in Debian): PHP's curl.cainfo when set, else
// libcurl's compiled-in /etc/ssl/certs/ca-certificates.crt; CURL_CA_BUNDLE is read by the
// curl command, not by libcurl; or CURLOPT_CAINFO CA.
// usage: php php_curl.php URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is
// not trusted; other: failed for another reason
[$url, $ca] = [$argv[1], $argv[2] ?? null];
$handle = curl_init($url);
curl_setopt($handle, CURLOPT_RETURNTRANSFER, true);
curl_setopt($handle, CURLOPT_TIMEOUT, 10);
if ($ca !== null) {
    curl_setopt($handle, CURLOPT_CAINFO, $ca);
}
$body = curl_exec($handle);
if ($body === false) {
    $message = curl_error($handle);
    // 60: CURLE_PEER_FAILED_VERIFICATION (PHP names it CURLE_SSL_CACERT)
    if (curl_errno($handle) === CURLE_SSL_CACERT
        && str_contains($message, 'unable to get local issuer certificate')) {
        echo "untrusted: $message\n";
        exit(3);
    }
    fwrite(STDERR, "$message\n");
    exit(1);
}
echo $body;
