<?php
// PHP streams (file_get_contents on https://): PHP's openssl.cafile / openssl.capath when
// set, else OpenSSL's default verify paths (SSL_CERT_FILE, SSL_CERT_DIR, then the
// compiled-in ones); or the ssl context's cafile CA.
// usage: php php_streams.php URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer
// is not trusted; other: failed for another reason
[$url, $ca] = [$argv[1], $argv[2] ?? null];
$options = ['http' => ['timeout' => 10]];
if ($ca !== null) {
    $options['ssl'] = ['cafile' => $ca];
}
$warnings = [];
set_error_handler(function ($level, $message) use (&$warnings) {
    $warnings[] = $message;
    return true;
});
$body = file_get_contents($url, false, stream_context_create($options));
if ($body === false) {
    $message = implode("; ", $warnings);
    if (str_contains($message, 'certificate verify failed')) {
        echo "untrusted: $message\n";
        exit(3);
    }
    fwrite(STDERR, "$message\n");
    exit(1);
}
echo $body;
