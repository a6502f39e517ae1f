// Node.js https: its own bundled roots plus NODE_EXTRA_CA_CERTS (read at start-up);
// SSL_CERT_FILE only with --use-openssl-ca; or the ca option (which replaces the roots).
// usage: node node.js URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is
// not trusted; other: failed for another reason
"use strict";
const fs = require("fs");
const https = require("https");

const [url, ca] = process.argv.slice(2);
const UNKNOWN_ISSUER = new Set(["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);

const request = https.get(url, { timeout: 10000, ...(ca ? { ca: fs.readFileSync(ca) } : {}) }, (response) => {
  let body = "";
  response.setEncoding("utf8");
  response.on("data", (chunk) => (body += chunk));
  response.on("end", () => {
    if (response.statusCode !== 200) {
      console.error(`HTTP ${response.statusCode}`);
      process.exit(1);
    }
    process.stdout.write(body);
  });
});
request.on("timeout", () => request.destroy(new Error("timed out")));
request.on("error", (error) => {
  if (UNKNOWN_ISSUER.has(error.code)) {
    console.log(`untrusted: ${error.code}: ${error.message}`);
    process.exit(3);
  }
  console.error(error);
  process.exit(1);
});
