// Writes a PKCS#12 trust store holding every certificate of a PEM bundle as a trusted
// certificate entry, as trust-manager's additionalFormats.pkcs12 does for Java.
// usage: java MakeTrustStore.java BUNDLE.pem OUT.p12 PASSWORD
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

public class MakeTrustStore {
    public static void main(String[] args) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        int n = 0;
        try (InputStream in = new FileInputStream(args[0])) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("cert-" + n++, certificate);
            }
        }
        try (OutputStream out = new FileOutputStream(args[1])) {
            store.store(out, args[2].toCharArray());
        }
        System.out.println(n + " certificates written to " + args[1]);
    }
}
