// Deno fetch: the store DENO_TLS_CA_STORE names (mozilla, the default: webpki-roots
// compiled in; system: the machine's, through rustls-native-certs), plus DENO_CERT and,
// from Deno 2.8, NODE_EXTRA_CA_CERTS; or, given CA, an HTTP client with that certificate.
// usage: deno run --allow-net --allow-read deno.ts URL [CA]   exit 0: trusted, the body on
// stdout; 3: the issuer is not trusted; other: failed for another reason
const [url, ca] = Deno.args;
const client = ca ? Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(ca)] }) : undefined;
try {
  const response = await fetch(url, { client, signal: AbortSignal.timeout(10000) });
  const body = await response.text();
  if (response.status !== 200) {
    console.error(`HTTP ${response.status}`);
    Deno.exit(1);
  }
  await Deno.stdout.write(new TextEncoder().encode(body));
} catch (error) {
  const text = `${error}${error.cause ? `: ${error.cause}` : ""}`;
  if (text.includes("UnknownIssuer")) {
    console.log(`untrusted: ${text}`);
    Deno.exit(3);
  }
  console.error(text);
  Deno.exit(1);
}
