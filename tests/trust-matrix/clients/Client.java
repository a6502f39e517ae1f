// Java HttpsURLConnection: the JDK's trust store (in Debian /etc/ssl/certs/java/cacerts,
// built by ca-certificates-java), or the one -Djavax.net.ssl.trustStore names (which
// JAVA_TOOL_OPTIONS can carry); PEM files and SSL_CERT_FILE are not read. Given CA, a
// trust manager made from that PEM file only.
// usage: java Client URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is not
// trusted (or no certificate is); other: failed for another reason
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.InvalidAlgorithmParameterException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

public class Client {
    public static void main(String[] args) throws Exception {
        HttpsURLConnection connection = (HttpsURLConnection) new URL(args[0]).openConnection();
        connection.setConnectTimeout(10000);
        connection.setReadTimeout(10000);
        if (args.length > 1) {
            connection.setSSLSocketFactory(contextTrusting(args[1]).getSocketFactory());
        }
        try (InputStream body = connection.getInputStream()) {
            System.out.print(new String(body.readAllBytes(), StandardCharsets.UTF_8));
        } catch (SSLException e) {
            // No path to a trusted root: PKIX path building failed; or no trusted root at all
            // (a trust store the JVM could read no certificate of, such as a PKCS#12 store
            // with a password opened without it): "the trustAnchors parameter must be non-empty".
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof CertPathBuilderException || cause instanceof InvalidAlgorithmParameterException) {
                    System.out.println("untrusted: " + e.getMessage());
                    System.exit(3);
                }
            }
            throw e;
        }
    }

    static SSLContext contextTrusting(String pemFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = new FileInputStream(pemFile)) {
            int n = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + n++, certificate);
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
