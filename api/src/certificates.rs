//! Signed challenges: an X.509 certificate from a trusted CA and a signature made with its key.

use dvc_domain::identity::CertificateIdentity;
use x509_parser::der_parser::oid;
use x509_parser::prelude::*;

/// The CA certificates that may issue signing certificates (the licensed Vietnamese CAs in
/// production, configured with `DVC_TRUST_ANCHORS`).
#[derive(Debug, Default, Clone)]
pub struct TrustStore {
    anchors: Vec<Vec<u8>>,
}

/// Why a signed challenge was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// The PEM or DER could not be read.
    Malformed,
    /// Outside its validity period.
    Expired,
    /// Not issued, directly or through the given intermediates, by a trust anchor.
    Untrusted,
    /// The signature does not verify with the certificate's key.
    BadSignature,
    /// The key type is not RSA or ECDSA P-256.
    UnsupportedKey,
}

impl TrustStore {
    /// Reads a PEM bundle of CA certificates.
    pub fn from_pem(bundle: &[u8]) -> Result<Self, String> {
        let mut anchors = Vec::new();
        for pem in Pem::iter_from_buffer(bundle) {
            let pem = pem.map_err(|e| format!("trust anchors: {e}"))?;
            X509Certificate::from_der(&pem.contents).map_err(|e| format!("trust anchors: {e}"))?;
            anchors.push(pem.contents);
        }
        Ok(Self { anchors })
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// What a verified signature proves.
#[derive(Debug, Clone)]
pub struct VerifiedSigner {
    pub subject: String,
    pub identities: Vec<CertificateIdentity>,
}

/// Verifies the chain, the validity period and the signature over `challenge`, then reads the
/// identities from the subject. `certificate_pem` holds the signer's certificate first, then any
/// intermediates.
pub fn verify(
    trust: &TrustStore,
    certificate_pem: &str,
    signature: &[u8],
    challenge: &[u8],
) -> Result<VerifiedSigner, CertError> {
    let ders: Vec<Vec<u8>> = Pem::iter_from_buffer(certificate_pem.as_bytes())
        .map(|p| p.map(|p| p.contents).map_err(|_| CertError::Malformed))
        .collect::<Result<_, _>>()?;
    let certs: Vec<X509Certificate> = ders
        .iter()
        .map(|der| X509Certificate::from_der(der).map(|(_, c)| c).map_err(|_| CertError::Malformed))
        .collect::<Result<_, _>>()?;
    let leaf = certs.first().ok_or(CertError::Malformed)?;
    let now = ASN1Time::now();
    if certs.iter().any(|c| !c.validity().is_valid_at(now)) {
        return Err(CertError::Expired);
    }
    check_chain(trust, &certs, now)?;
    verify_signature(leaf.public_key(), signature, challenge)?;
    Ok(VerifiedSigner { subject: leaf.subject().to_string(), identities: identities(leaf) })
}

fn check_chain(trust: &TrustStore, certs: &[X509Certificate], now: ASN1Time) -> Result<(), CertError> {
    let anchors: Vec<X509Certificate> =
        trust.anchors.iter().filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c)).collect();
    let mut current = &certs[0];
    for _ in 0..6 {
        for anchor in &anchors {
            if anchor.subject() == current.issuer()
                && anchor.validity().is_valid_at(now)
                && current.verify_signature(Some(anchor.public_key())).is_ok()
            {
                return Ok(());
            }
        }
        let issuer = certs[1..].iter().find(|c| {
            c.subject() == current.issuer() && c.is_ca() && current.verify_signature(Some(c.public_key())).is_ok()
        });
        match issuer {
            Some(next) if !std::ptr::eq(next, current) => current = next,
            _ => return Err(CertError::Untrusted),
        }
    }
    Err(CertError::Untrusted)
}

fn verify_signature(key: &SubjectPublicKeyInfo, signature: &[u8], message: &[u8]) -> Result<(), CertError> {
    use ring::signature as sig;
    let raw = key.subject_public_key.data.as_ref();
    let algorithm = &key.algorithm.algorithm;
    let candidates: &[&dyn sig::VerificationAlgorithm] = if *algorithm == oid!(1.2.840 .113549 .1 .1 .1) {
        &[&sig::RSA_PKCS1_2048_8192_SHA256, &sig::RSA_PSS_2048_8192_SHA256]
    } else if *algorithm == oid!(1.2.840 .10045 .2 .1) {
        &[&sig::ECDSA_P256_SHA256_ASN1, &sig::ECDSA_P256_SHA256_FIXED]
    } else {
        return Err(CertError::UnsupportedKey);
    };
    if candidates.iter().any(|alg| sig::UnparsedPublicKey::new(*alg, raw).verify(message, signature).is_ok()) {
        Ok(())
    } else {
        Err(CertError::BadSignature)
    }
}

/// Identities in the subject: the UID attribute first, as Vietnamese CAs write it, then any other
/// attribute carrying a `CCCD:`, `CMND:` or `MST:` prefix.
fn identities(cert: &X509Certificate) -> Vec<CertificateIdentity> {
    let uid = oid!(0.9.2342 .19200300 .100 .1 .1);
    let mut found: Vec<CertificateIdentity> = Vec::new();
    let mut attrs: Vec<_> = cert.subject().iter_attributes().collect();
    attrs.sort_by_key(|a| *a.attr_type() != uid);
    for attr in attrs {
        if let Ok(value) = attr.as_str() {
            if let Some(identity) = CertificateIdentity::from_uid(value) {
                if !found.contains(&identity) {
                    found.push(identity);
                }
            }
        }
    }
    found
}
