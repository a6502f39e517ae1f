# Ruby net/http: OpenSSL's default verify paths (SSL_CERT_FILE, SSL_CERT_DIR, then the
# compiled-in ones), or ca_file: CA.
# usage: ruby ruby.rb URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is not
# trusted; other: failed for another reason
require "net/http"

url, ca = ARGV
uri = URI(url)
options = { use_ssl: true, open_timeout: 10, read_timeout: 10 }
options[:ca_file] = ca if ca
begin
  response = Net::HTTP.start(uri.host, uri.port, **options) { |http| http.get(uri.path) }
rescue OpenSSL::SSL::SSLError => e
  raise unless e.message.include?("unable to get local issuer certificate")
  puts "untrusted: #{e.message}"
  exit 3
end
abort "HTTP #{response.code}" unless response.code == "200"
print response.body
