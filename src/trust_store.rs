//! A Java trust store as the JDK reads its default `cacerts`: with no
//! password. What it finds is counted by walking the store's structure: a
//! PKCS#12 store's DER (RFC 7292), or a JKS store's entries (told apart by
//! JKS's magic; the JDK tries PKCS#12 first and falls back to JKS). As the
//! JDK does without a password, a part encrypted under one is skipped, and a
//! certificate is trusted when it carries the JDK's trusted key usage
//! attribute or is a key entry's own certificate.
//!
//! Limits, each on the side of a store that works: a store in BER (indefinite
//! lengths, constructed strings), which the JDK also reads, is not walked
//! (`Malformed::Ber`, which the check lets through); a certificate's bytes are
//! not read as X.509. A JKS store must end with its digest, as every writer
//! writes it, though the JDK does not read it without a password.

use std::fmt;

/// What a store holds that the JDK reads without a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Contents {
    /// Certificates the JDK trusts: trusted entries, and the certificate of
    /// each key entry.
    pub trusted: usize,
    /// Certificates read but not marked trusted for Java (as OpenSSL 3.0's
    /// `pkcs12 -export` writes them): the JDK makes no entry of them.
    pub unmarked: usize,
    /// Parts (PKCS#7 encryptedData ContentInfos) encrypted under a password,
    /// which the JDK skips when it has none.
    pub encrypted: usize,
}

/// Why the bytes are no store the JDK can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    Empty,
    /// The bytes end inside `what`.
    Truncated(&'static str),
    /// Another tag than the one `what` has.
    Unexpected {
        what: &'static str,
        tag: u8,
    },
    /// A length over 4 bytes.
    Length(&'static str),
    /// BER where DER would be (an indefinite length, a constructed string):
    /// the JDK reads it, this walk does not.
    Ber(&'static str),
    /// `what` ends before the value that holds it does.
    Trailing(&'static str),
    Version(u64),
    /// A ContentInfo of another type than data or encryptedData (the JDK
    /// refuses the store whole).
    ContentType,
    /// The authenticated safe is not `data`: protected with a public key.
    PublicKey,
    /// A JKS entry of another type than a key (1) or a certificate (2).
    JksEntry(u32),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Empty => write!(f, "it is empty"),
            Malformed::Truncated(what) => write!(f, "it ends inside {what}"),
            Malformed::Unexpected { what, tag } => {
                write!(f, "it has the DER tag 0x{tag:02x} where {what} should be")
            }
            Malformed::Length(what) => write!(f, "{what} has a length over 4 bytes"),
            Malformed::Ber(what) => write!(
                f,
                "{what} is in BER (an indefinite length or a constructed string), which this \
                 check does not walk"
            ),
            Malformed::Trailing(what) => write!(f, "bytes follow {what} inside its holder"),
            Malformed::Version(v) => write!(f, "its version is {v}, which the JDK does not read"),
            Malformed::ContentType => write!(
                f,
                "a part of it is neither data nor encrypted data (public-key protected), which \
                 the JDK does not read"
            ),
            Malformed::JksEntry(tag) => write!(
                f,
                "a JKS entry has the type {tag}, neither a key (1) nor a trusted certificate (2)"
            ),
            Malformed::PublicKey => write!(
                f,
                "its authenticated safe is protected with a public key, which the JDK does not read"
            ),
        }
    }
}

/// What the JDK reads of `bytes` with no password.
pub fn read(bytes: &[u8]) -> Result<Contents, Malformed> {
    match bytes {
        [] => Err(Malformed::Empty),
        [0xfe, 0xed, 0xfe, 0xed, ..] => jks(bytes),
        _ => pkcs12(bytes),
    }
}

/// What keeps the JDK from trusting all of a store's certificates without a
/// password.
#[derive(Debug, Clone, PartialEq)]
pub enum Unread {
    /// Parts encrypted under a password; `trusted` certificates outside them.
    Encrypted {
        trusted: usize,
    },
    /// `count` certificates not marked trusted for Java.
    Unmarked {
        count: usize,
        trusted: usize,
    },
    NoCertificate,
    /// Not a PKCS#12 or JKS store.
    Malformed(Malformed),
    /// A ConfigMap's `data` (text), and not a store.
    Text(Malformed),
}

/// Why the JDK, which opens its default `cacerts` with no password, cannot
/// trust all of the store in `bytes` (from a ConfigMap's `data` when
/// `text`), if it cannot.
pub fn unread(bytes: &[u8], text: bool) -> Option<Unread> {
    match read(bytes) {
        Ok(contents) => Unread::of(contents),
        // The JDK reads BER, which this walk does not: let through.
        Err(Malformed::Ber(_)) => None,
        Err(why) if text => Some(Unread::Text(why)),
        Err(why) => Some(Unread::Malformed(why)),
    }
}

impl Unread {
    /// Why the JDK cannot trust all of `contents`, if it cannot.
    fn of(contents: Contents) -> Option<Unread> {
        match contents {
            Contents {
                encrypted: 1..,
                trusted,
                ..
            } => Some(Unread::Encrypted { trusted }),
            Contents {
                unmarked: count @ 1..,
                trusted,
                ..
            } => Some(Unread::Unmarked { count, trusted }),
            Contents { trusted: 0, .. } => Some(Unread::NoCertificate),
            Contents { .. } => None,
        }
    }

    /// What the key holds, what the JVM is left with, and the fix.
    pub fn parts(&self) -> (String, &'static str, &'static str) {
        const TRUST_MANAGER: &str = "write the store without a password (trust-manager \
                                     additionalFormats.pkcs12.password: \"\")";
        let left = |trusted: &usize| match trusted {
            0 => NO_TRUST,
            _ => "leaves the JVM without them",
        };
        match self {
            Unread::Encrypted { trusted } => (
                "a PKCS#12 store whose certificates are encrypted, as trust-manager writes it given \
                 a password"
                    .into(),
                left(trusted),
                TRUST_MANAGER,
            ),
            Unread::Unmarked { count, trusted } => (
                format!(
                    "a PKCS#12 store with {count} certificate{} not marked trusted for Java (the \
                     JDK's trusted key usage attribute, which openssl pkcs12 -export writes only \
                     with -jdktrust)",
                    if *count == 1 { "" } else { "s" }
                ),
                left(trusted),
                "write the store with trust-manager (additionalFormats.pkcs12.password: \"\") or \
                 keytool -importcert",
            ),
            Unread::NoCertificate => (
                "a store with no certificate".into(),
                NO_TRUST,
                "put the bundle's certificates in it (trust-manager's additionalFormats.pkcs12 \
                 target holds the Bundle's sources)",
            ),
            Unread::Malformed(why) => (
                format!("no PKCS#12 or JKS store ({why})"),
                NO_TRUST,
                "point javaTrustStore.key at trust-manager's additionalFormats.pkcs12 key, written \
                 without a password (password: \"\")",
            ),
            Unread::Text(why) => (
                format!("text (ConfigMap data), no PKCS#12 or JKS store ({why})"),
                NO_TRUST,
                "a binary store goes in binaryData, where trust-manager writes its \
                 additionalFormats.pkcs12 target (password: \"\")",
            ),
        }
    }
}

const NO_TRUST: &str = "leaves the JVM trusting no certificate at all";

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
/// A constructed OCTET STRING: BER.
const OCTET_STRING_PARTS: u8 = 0x24;
/// `[0] EXPLICIT`: the content of a ContentInfo, the value of a SafeBag.
const CONTEXT_0: u8 = 0xa0;

// The object identifiers' content bytes.
/// PKCS#7 data (1.2.840.113549.1.7.1).
const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// PKCS#7 encryptedData (1.2.840.113549.1.7.6).
const ENCRYPTED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
/// PKCS#12 certBag (1.2.840.113549.1.12.10.1.3).
const CERT_BAG: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03,
];
/// PKCS#9 localKeyId (1.2.840.113549.1.9.21): the certificate of a key entry.
const LOCAL_KEY_ID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x15];
/// The JDK's trusted key usage attribute (2.16.840.1.113894.746875.1.1).
const TRUSTED_KEY_USAGE: &[u8] = &[
    0x60, 0x86, 0x48, 0x01, 0x86, 0xf9, 0x66, 0xad, 0xca, 0x7b, 0x01, 0x01,
];

/// DER values read one after another from the content of a value.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Der { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next value's tag and content; `what` names it in refusals.
    fn any(&mut self, what: &'static str) -> Result<(u8, &'a [u8]), Malformed> {
        let (&tag, rest) = self.rest.split_first().ok_or(Malformed::Truncated(what))?;
        let (&first, rest) = rest.split_first().ok_or(Malformed::Truncated(what))?;
        let (length, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x80 => return Err(Malformed::Ber(what)),
            0x81..=0x84 => {
                let width = usize::from(first & 0x7f);
                let digits = rest.get(..width).ok_or(Malformed::Truncated(what))?;
                let length =
                    usize::try_from(number(digits)).map_err(|_| Malformed::Length(what))?;
                (length, rest.get(width..).unwrap_or_default())
            }
            _ => return Err(Malformed::Length(what)),
        };
        let content = rest.get(..length).ok_or(Malformed::Truncated(what))?;
        self.rest = rest.get(length..).unwrap_or_default();
        Ok((tag, content))
    }

    /// The next value's content, which must have `tag`.
    fn take(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], Malformed> {
        match self.any(what)? {
            (found, content) if found == tag => Ok(content),
            (OCTET_STRING_PARTS, _) if tag == OCTET_STRING => Err(Malformed::Ber(what)),
            (found, _) => Err(Malformed::Unexpected { what, tag: found }),
        }
    }

    /// The next value's content, read whole by `read`.
    fn within<T>(
        &mut self,
        tag: u8,
        what: &'static str,
        read: impl FnOnce(&mut Der<'a>) -> Result<T, Malformed>,
    ) -> Result<T, Malformed> {
        let mut inner = Der::new(self.take(tag, what)?);
        let value = read(&mut inner)?;
        match inner.is_empty() {
            true => Ok(value),
            false => Err(Malformed::Trailing(what)),
        }
    }
}

/// PFX ::= SEQUENCE { version 3, authSafe ContentInfo (data), macData
/// OPTIONAL }. The MAC is not checked: the JDK checks none without a password.
fn pkcs12(bytes: &[u8]) -> Result<Contents, Malformed> {
    Der::new(bytes).take(SEQUENCE, "the PFX").and_then(|pfx| {
        let mut pfx = Der::new(pfx);
        let version = pfx.take(INTEGER, "the PFX version")?;
        if version != [3] {
            return Err(Malformed::Version(number(version)));
        }
        let safe = pfx.within(SEQUENCE, "the authenticated safe", |info| {
            if info.take(OID, "the authenticated safe's type")? != DATA {
                return Err(Malformed::PublicKey);
            }
            let content = info.within(CONTEXT_0, "the authenticated safe's content", |c| {
                c.take(OCTET_STRING, "the authenticated safe's octets")
            })?;
            Ok(content)
        })?;
        Der::new(safe).within(SEQUENCE, "the AuthenticatedSafe", content_infos)
    })
}

/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo: only `data` is read
/// without a password.
fn content_infos(safe: &mut Der<'_>) -> Result<Contents, Malformed> {
    let mut found = Contents::default();
    while !safe.is_empty() {
        safe.within(SEQUENCE, "a ContentInfo", |info| {
            let kind = info.take(OID, "a ContentInfo's type")?;
            let content = info.take(CONTEXT_0, "a ContentInfo's content")?;
            match kind {
                DATA => {
                    let octets = Der::new(content).take(OCTET_STRING, "a data ContentInfo")?;
                    Der::new(octets).within(SEQUENCE, "the SafeContents", |bags| {
                        safe_bags(bags, &mut found)
                    })
                }
                ENCRYPTED => {
                    found.encrypted += 1;
                    Ok(())
                }
                _ => Err(Malformed::ContentType),
            }
        })?;
    }
    Ok(found)
}

/// SafeContents ::= SEQUENCE OF SafeBag { bagId, [0] bagValue, bagAttributes
/// SET OF Attribute OPTIONAL }: certificate bags are counted, trusted when
/// an attribute is the JDK's trusted key usage or a localKeyId (a key's).
fn safe_bags(bags: &mut Der<'_>, found: &mut Contents) -> Result<(), Malformed> {
    while !bags.is_empty() {
        bags.within(SEQUENCE, "a SafeBag", |bag| {
            let id = bag.take(OID, "a SafeBag's type")?;
            bag.take(CONTEXT_0, "a SafeBag's value")?;
            let mut trusted = false;
            if !bag.is_empty() {
                let mut attributes = Der::new(bag.take(SET, "a SafeBag's attributes")?);
                while !attributes.is_empty() {
                    let attribute = attributes.take(SEQUENCE, "a SafeBag attribute")?;
                    let kind = Der::new(attribute).take(OID, "a SafeBag attribute's type")?;
                    trusted |= kind == TRUSTED_KEY_USAGE || kind == LOCAL_KEY_ID;
                }
            }
            match (id == CERT_BAG, trusted) {
                (true, true) => found.trusted += 1,
                (true, false) => found.unmarked += 1,
                (false, _) => {}
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// A big-endian number (saturating: a count or length this large is refused
/// by what follows).
fn number(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |n, &d| {
        n.saturating_mul(256).saturating_add(u64::from(d))
    })
}

/// JKS: magic, version 1 or 2, the entry count, then each entry: 1 a private
/// key with its chain, 2 a trusted certificate. The closing digest is
/// checked by the JDK only with a password.
fn jks(bytes: &[u8]) -> Result<Contents, Malformed> {
    let mut r = Jks { rest: bytes };
    r.take(4usize, "the JKS magic")?;
    let version = r.u32("the JKS version")?;
    if !(1..=2).contains(&version) {
        return Err(Malformed::Version(u64::from(version)));
    }
    let mut found = Contents::default();
    for _ in 0..r.u32("the JKS entry count")? {
        found.trusted += r.entry(version)?;
    }
    // Not checked without a password, but a store without it was cut short.
    r.take(20usize, "the JKS digest")?;
    Ok(found)
}

/// A JKS store's big-endian fields, read in order.
struct Jks<'a> {
    rest: &'a [u8],
}

impl<'a> Jks<'a> {
    /// One entry: 1 for a trusted certificate, or a private key with its
    /// certificate (the JDK trusts a key entry's first certificate).
    fn entry(&mut self, version: u32) -> Result<usize, Malformed> {
        let r = self;
        let tag = r.u32("a JKS entry")?;
        r.utf("a JKS alias")?;
        r.take(8usize, "a JKS entry's date")?;
        match tag {
            1 => {
                let key = r.u32("a JKS key")?;
                r.take(key, "a JKS key")?;
                let chain = r.u32("a JKS chain")?;
                for _ in 0..chain {
                    r.certificate(version)?;
                }
                Ok(usize::from(chain > 0))
            }
            2 => r.certificate(version).map(|()| 1),
            _ => Err(Malformed::JksEntry(tag)),
        }
    }

    fn take(&mut self, n: impl TryInto<usize>, what: &'static str) -> Result<&'a [u8], Malformed> {
        let n = n.try_into().map_err(|_| Malformed::Truncated(what))?;
        let taken = self.rest.get(..n).ok_or(Malformed::Truncated(what))?;
        self.rest = self.rest.get(n..).unwrap_or_default();
        Ok(taken)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Malformed> {
        let b = self.take(4usize, what)?;
        u32::try_from(number(b)).map_err(|_| Malformed::Truncated(what))
    }

    /// A Java modified-UTF-8 string: a 2-byte length, then the bytes.
    fn utf(&mut self, what: &'static str) -> Result<(), Malformed> {
        let n = number(self.take(2usize, what)?);
        self.take(n, what).map(|_| ())
    }

    /// A certificate: its type (version 2), then its length and bytes.
    fn certificate(&mut self, version: u32) -> Result<(), Malformed> {
        if version == 2 {
            self.utf("a JKS certificate type")?;
        }
        let n = self.u32("a JKS certificate")?;
        self.take(n, "a JKS certificate").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// test_data/trust-stores/README.md says how each was made, and what a
    /// JDK 17 reads of it with no password: trusted, unmarked, encrypted.
    const FIXTURES: [(&str, Contents); 5] = [
        ("passwordless.p12", contents(2, 0, 0)),
        ("changeit.p12", contents(0, 0, 1)),
        ("openssl-nokeys.p12", contents(0, 2, 0)),
        ("openssl-changeit.p12", contents(0, 0, 1)),
        ("changeit.jks", contents(2, 0, 0)),
    ];

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/test_data/trust-stores/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    const fn contents(trusted: usize, unmarked: usize, encrypted: usize) -> Contents {
        Contents {
            trusted,
            unmarked,
            encrypted,
        }
    }

    /// Any part the JDK cannot read without a password is named, encrypted
    /// parts first; a store it reads whole passes, and so does BER.
    #[test]
    fn a_store_passes_only_when_the_jdk_reads_it_whole() {
        let of = |trusted, unmarked, encrypted| Unread::of(contents(trusted, unmarked, encrypted));
        assert_eq!(of(2, 0, 0), None);
        assert_eq!(of(2, 1, 1), Some(Unread::Encrypted { trusted: 2 }));
        assert_eq!(
            of(0, 1, 0),
            Some(Unread::Unmarked {
                count: 1,
                trusted: 0
            })
        );
        assert_eq!(of(0, 0, 0), Some(Unread::NoCertificate));
        assert_eq!(unread(&[0x30, 0x80, 0, 0], false), None);
        let cut = Malformed::Truncated("the PFX");
        assert_eq!(
            unread(&[0x30, 9], false),
            Some(Unread::Malformed(cut.clone()))
        );
        assert_eq!(unread(&[0x30, 9], true), Some(Unread::Text(cut)));
    }

    /// What the JVM is left with: some certificates, or none; one or more.
    #[test]
    fn the_parts_name_what_the_jvm_keeps() {
        let unmarked = |count, trusted| Unread::Unmarked { count, trusted }.parts();
        let (holds, left, _) = unmarked(1, 2);
        assert_eq!(
            (holds.as_str(), left),
            (
                "a PKCS#12 store with 1 certificate not marked trusted for Java (the JDK's \
                 trusted key usage attribute, which openssl pkcs12 -export writes only with \
                 -jdktrust)",
                "leaves the JVM without them"
            )
        );
        assert_eq!(unmarked(2, 0).1, NO_TRUST);
        assert_eq!(
            Unread::Encrypted { trusted: 1 }.parts().1,
            "leaves the JVM without them"
        );
        assert_eq!(Unread::Encrypted { trusted: 0 }.parts().1, NO_TRUST);
    }

    #[test]
    fn each_fixture_is_read_as_the_jdk_reads_it() {
        for (name, contents) in FIXTURES {
            assert_eq!(read(&fixture(name)), Ok(contents), "{name}");
        }
    }

    /// Every cut of every fixture is refused, never a panic.
    #[test]
    fn every_truncation_is_refused_with_a_reason() {
        for (name, _) in FIXTURES {
            let whole = fixture(name);
            for end in 0..whole.len() {
                let cut = whole.get(..end).unwrap();
                assert!(read(cut).is_err(), "{name} cut at {end}: {:?}", read(cut));
            }
        }
        let p12 = fixture("passwordless.p12");
        assert_eq!(read(&p12[..100]), Err(Malformed::Truncated("the PFX")));
        let jks = fixture("changeit.jks");
        assert_eq!(read(&jks[..12]), Err(Malformed::Truncated("a JKS entry")));
    }

    /// Any byte of any fixture changed: an answer, never a panic (the test
    /// fails by panicking).
    #[test]
    fn every_changed_byte_gets_an_answer() {
        for (name, _) in FIXTURES {
            let whole = fixture(name);
            for at in 0..whole.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut changed = whole.clone();
                    changed[at] ^= flip;
                    let _ = read(&changed);
                }
            }
        }
    }

    #[test]
    fn bad_input_gets_a_clear_reason() {
        assert_eq!(read(b""), Err(Malformed::Empty));
        assert_eq!(read(b"").unwrap_err().to_string(), "it is empty");
        let pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let refused = read(pem).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "it has the DER tag 0x2d where the PFX should be"
        );
        assert_eq!(read(&[0x30, 0x80, 0, 0]), Err(Malformed::Ber("the PFX")));
        assert_eq!(
            read(&[0x30, 0x85, 0, 0, 0, 0, 1]),
            Err(Malformed::Length("the PFX"))
        );
        assert_eq!(
            read(&[0x30, 0x03, 0x02, 0x01, 0x02]),
            Err(Malformed::Version(2))
        );
        assert_eq!(
            read(&[0x30, 0x03, 0x02, 0x01, 0x03]),
            Err(Malformed::Truncated("the authenticated safe"))
        );
        let jks = [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 3];
        assert_eq!(read(&jks), Err(Malformed::Version(3)));
        let entry = [
            0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0,
        ];
        let entry = [&entry[..], &[0; 8]].concat();
        assert_eq!(
            read(&entry).unwrap_err().to_string(),
            "a JKS entry has the type 7, neither a key (1) nor a trusted certificate (2)"
        );
    }

    /// DER `tag` with `content` (short or one-byte long form).
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let length = u8::try_from(content.len()).unwrap();
        let head = match length {
            0..=0x7f => vec![tag, length],
            _ => vec![tag, 0x81, length],
        };
        [head, content.to_vec()].concat()
    }

    /// A PFX whose AuthenticatedSafe holds `infos`, each `(type, content)`.
    fn pfx(infos: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        let infos: Vec<u8> = infos
            .iter()
            .flat_map(|(kind, content)| {
                der(
                    SEQUENCE,
                    &[der(OID, kind), der(CONTEXT_0, content)].concat(),
                )
            })
            .collect();
        let safe = der(OCTET_STRING, &der(SEQUENCE, &infos));
        let auth = der(SEQUENCE, &[der(OID, DATA), der(CONTEXT_0, &safe)].concat());
        der(SEQUENCE, &[der(INTEGER, &[3]), auth].concat())
    }

    /// A certBag, with the attribute of OID `attribute` if any.
    fn cert_bag(attribute: Option<&[u8]>) -> Vec<u8> {
        let attribute =
            attribute.map(|oid| der(SEQUENCE, &[der(OID, oid), der(SET, &[])].concat()));
        let attributes = der(SET, &attribute.unwrap_or_default());
        let value = der(CONTEXT_0, &der(SEQUENCE, &[]));
        der(SEQUENCE, &[der(OID, CERT_BAG), value, attributes].concat())
    }

    #[test]
    fn data_parts_are_read_and_encrypted_parts_counted() {
        let data = |bags: &[Vec<u8>]| der(OCTET_STRING, &der(SEQUENCE, &bags.concat()));
        let trusted = cert_bag(Some(TRUSTED_KEY_USAGE));
        let store = pfx(&[
            (DATA, data(&[trusted.clone(), cert_bag(None)])),
            (ENCRYPTED, der(SEQUENCE, &[])),
            (DATA, data(&[cert_bag(Some(LOCAL_KEY_ID))])),
            (ENCRYPTED, der(SEQUENCE, &[])),
        ]);
        assert_eq!(read(&store), Ok(contents(2, 1, 2)));
        assert_eq!(read(&pfx(&[])), Ok(contents(0, 0, 0)));
        // signedData and envelopedData: the JDK refuses the whole store.
        for last in [0x02, 0x03] {
            let other = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, last];
            assert_eq!(
                read(&pfx(&[(&other, der(SEQUENCE, &[]))])),
                Err(Malformed::ContentType)
            );
        }
        // BER's constructed OCTET STRING where a data part's octets are.
        assert_eq!(
            read(&pfx(&[(DATA, der(OCTET_STRING_PARTS, &[]))])),
            Err(Malformed::Ber("a data ContentInfo"))
        );
        let mut bag = trusted;
        bag.extend(der(INTEGER, &[0]));
        let bag = der(SEQUENCE, bag.get(2..).unwrap());
        assert_eq!(
            read(&pfx(&[(DATA, data(&[bag]))])),
            Err(Malformed::Trailing("a SafeBag"))
        );
    }

    /// A JKS key entry with its chain: the JDK trusts its first certificate.
    #[test]
    fn a_jks_key_entry_counts_its_certificate() {
        let utf = |text: &[u8]| [&[0, 4], text].concat();
        let certificate = [utf(b"X509"), vec![0, 0, 0, 1, 0x30]].concat();
        let entry = |chain: u8| {
            let certificates = vec![certificate.clone(); usize::from(chain)].concat();
            let head = [
                vec![0, 0, 0, 1],
                utf(b"key1"),
                vec![0; 8],
                vec![0, 0, 0, 1, 7],
            ];
            [head.concat(), vec![0, 0, 0, chain], certificates].concat()
        };
        let store = |entries: &[Vec<u8>]| {
            let count = u8::try_from(entries.len()).unwrap();
            let head = vec![0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, count];
            [head, entries.concat(), vec![0; 20]].concat()
        };
        assert_eq!(read(&store(&[entry(2), entry(0)])), Ok(contents(1, 0, 0)));
        assert_eq!(read(&store(&[])), Ok(contents(0, 0, 0)));
    }

    #[test]
    fn a_public_key_protected_store_is_refused() {
        let mut store = pfx(&[]);
        // The authenticated safe's type: data -> signedData.
        let at = store.windows(DATA.len()).position(|w| w == DATA).unwrap();
        store[at + DATA.len() - 1] = 0x02;
        assert_eq!(read(&store), Err(Malformed::PublicKey));
    }
}
