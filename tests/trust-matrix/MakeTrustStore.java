// Writes a trust store holding, as trusted certificate entries, every certificate of the
// sources: PEM files, or key stores (read without a password, as the JDK reads cacerts).
// PKCS12 with a password is what trust-manager's additionalFormats.pkcs12 writes with one;
// with the password "" it is written as trust-manager writes it without one: no MAC and
// the certificates not encrypted, so that a JDK reads it with no password at all. JKS is
// the format of Debian's /etc/ssl/certs/java/cacerts.
// usage: java MakeTrustStore.java OUT PKCS12|JKS PASSWORD SOURCE...
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

public class MakeTrustStore {
    public static void main(String[] args) throws Exception {
        String type = args[1];
        char[] password = args[2].toCharArray();
        if (password.length == 0) {
            if (!type.equals("PKCS12")) {
                throw new IllegalArgumentException("only a PKCS12 store can be written without a password");
            }
            System.setProperty("keystore.pkcs12.certProtectionAlgorithm", "NONE");
            System.setProperty("keystore.pkcs12.macAlgorithm", "NONE");
        }
        KeyStore store = KeyStore.getInstance(type);
        store.load(null, null);
        int n = 0;
        for (int i = 3; i < args.length; i++) {
            for (Certificate certificate : certificates(Path.of(args[i]))) {
                store.setCertificateEntry("cert-" + n++, certificate);
            }
        }
        try (OutputStream out = new FileOutputStream(args[0])) {
            store.store(out, password);
        }
        System.out.println(n + " certificates written to " + args[0]);
    }

    static List<Certificate> certificates(Path source) throws Exception {
        byte[] head = new byte[10];
        try (InputStream in = Files.newInputStream(source)) {
            in.read(head);
        }
        if (new String(head, "US-ASCII").startsWith("-----BEGIN")) {
            try (InputStream in = new FileInputStream(source.toFile())) {
                return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            }
        }
        KeyStore store = KeyStore.getInstance(source.toFile(), (char[]) null);
        List<Certificate> found = new ArrayList<>();
        for (String alias : Collections.list(store.aliases())) {
            if (store.isCertificateEntry(alias)) {
                found.add(store.getCertificate(alias));
            }
        }
        return found;
    }
}
