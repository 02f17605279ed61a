//! Agencies' keys for signing the results they issue, and the check of a signature against the
//! certificate kept with it. Keys are X.509 certificates with PKCS#8 private keys (ECDSA P-256 or
//! RSA), named per agency code in `DVC_SIGNING_KEYS`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};

/// An agency's key as configured: `CODE=cert.pem:key.pem`.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub agency_code: String,
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

/// Parses `DVC_SIGNING_KEYS`: `G01=/etc/dvc/g01.crt:/etc/dvc/g01.key,H26=...`.
pub fn parse_key_files(value: &str) -> Result<Vec<KeyFiles>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (code, files) = entry
                .split_once('=')
                .ok_or_else(|| format!("DVC_SIGNING_KEYS: expected CODE=cert.pem:key.pem, got {entry:?}"))?;
            let (cert, key) = files
                .split_once(':')
                .ok_or_else(|| format!("DVC_SIGNING_KEYS: expected cert.pem:key.pem for {code}"))?;
            Ok(KeyFiles {
                agency_code: code.trim().to_string(),
                certificate: PathBuf::from(cert.trim()),
                private_key: PathBuf::from(key.trim()),
            })
        })
        .collect()
}

enum Key {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

struct AgencyKey {
    key: Key,
    certificate_pem: String,
}

/// The keys of this server, by agency code.
#[derive(Default)]
pub struct Signers {
    keys: BTreeMap<String, AgencyKey>,
}

/// A signature and what checks it.
pub struct Signature {
    pub algorithm: &'static str,
    /// Base64.
    pub value: String,
    pub certificate_pem: String,
}

const ECDSA: &str = "ecdsa-p256-sha256";
const RSA: &str = "rsa-pkcs1-sha256";

fn pem_blocks(bytes: &[u8]) -> Vec<x509_parser::pem::Pem> {
    x509_parser::pem::Pem::iter_from_buffer(bytes).filter_map(Result::ok).collect()
}

impl Signers {
    /// Loads every configured key; a key that does not match its certificate is refused.
    pub fn load(files: &[KeyFiles]) -> Result<Self, String> {
        let mut keys = BTreeMap::new();
        for f in files {
            let cert_bytes = std::fs::read(&f.certificate).map_err(|e| format!("{}: {e}", f.certificate.display()))?;
            let key_bytes = std::fs::read(&f.private_key).map_err(|e| format!("{}: {e}", f.private_key.display()))?;
            let cert = pem_blocks(&cert_bytes)
                .into_iter()
                .find(|p| p.label == "CERTIFICATE")
                .ok_or_else(|| format!("{}: no PEM certificate", f.certificate.display()))?;
            let pkcs8 = pem_blocks(&key_bytes)
                .into_iter()
                .find(|p| p.label == "PRIVATE KEY")
                .ok_or_else(|| format!("{}: no PKCS#8 PEM private key", f.private_key.display()))?;
            let key =
                match EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &pkcs8.contents,
                    &SystemRandom::new(),
                ) {
                    Ok(k) => Key::Ecdsa(k),
                    Err(_) => Key::Rsa(RsaKeyPair::from_pkcs8(&pkcs8.contents).map_err(|e| {
                        format!("{}: neither an ECDSA P-256 nor an RSA key: {e}", f.private_key.display())
                    })?),
                };
            let certificate_pem = pem_text(&cert.contents);
            let public = match &key {
                Key::Ecdsa(k) => k.public_key().as_ref().to_vec(),
                Key::Rsa(k) => k.public_key().as_ref().to_vec(),
            };
            if certificate_key(&certificate_pem).as_deref() != Some(public.as_slice()) {
                return Err(format!("{}: the key is not the certificate's", f.private_key.display()));
            }
            keys.insert(f.agency_code.clone(), AgencyKey { key, certificate_pem });
        }
        Ok(Signers { keys })
    }

    /// Signs `text` with the agency's key; none when the agency has no key here.
    pub fn sign(&self, agency_code: &str, text: &str) -> Result<Option<Signature>, String> {
        let Some(k) = self.keys.get(agency_code) else { return Ok(None) };
        let rng = SystemRandom::new();
        let (algorithm, bytes) = match &k.key {
            Key::Ecdsa(key) => (ECDSA, key.sign(&rng, text.as_bytes()).map_err(|e| e.to_string())?.as_ref().to_vec()),
            Key::Rsa(key) => {
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, text.as_bytes(), &mut out).map_err(|e| e.to_string())?;
                (RSA, out)
            }
        };
        Ok(Some(Signature {
            algorithm,
            value: base64::engine::general_purpose::STANDARD.encode(bytes),
            certificate_pem: k.certificate_pem.clone(),
        }))
    }
}

/// A signature over raw bytes, for containers that carry their own (the CMS of a signed PDF).
pub struct RawSignature {
    /// ECDSA P-256 with SHA-256 (ASN.1 DER value), else RSA PKCS#1 v1.5 with SHA-256.
    pub ecdsa: bool,
    pub value: Vec<u8>,
    /// The agency's certificate, DER.
    pub certificate_der: Vec<u8>,
}

impl Signers {
    /// Whether this server holds a key of the agency.
    pub fn has_key(&self, agency_code: &str) -> bool {
        self.keys.contains_key(agency_code)
    }

    /// Signs `message` with the agency's key (SHA-256); none when the agency has no key here.
    pub fn sign_raw(&self, agency_code: &str, message: &[u8]) -> Result<Option<RawSignature>, String> {
        let Some(k) = self.keys.get(agency_code) else { return Ok(None) };
        let rng = SystemRandom::new();
        let (ecdsa, value) = match &k.key {
            Key::Ecdsa(key) => (true, key.sign(&rng, message).map_err(|e| e.to_string())?.as_ref().to_vec()),
            Key::Rsa(key) => {
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out).map_err(|e| e.to_string())?;
                (false, out)
            }
        };
        let certificate_der = pem_blocks(k.certificate_pem.as_bytes())
            .into_iter()
            .find(|p| p.label == "CERTIFICATE")
            .map(|p| p.contents)
            .ok_or("the agency's certificate does not read")?;
        Ok(Some(RawSignature { ecdsa, value, certificate_der }))
    }
}

fn pem_text(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// The public key bits of a PEM certificate.
fn certificate_key(certificate_pem: &str) -> Option<Vec<u8>> {
    let pem = pem_blocks(certificate_pem.as_bytes()).into_iter().find(|p| p.label == "CERTIFICATE")?;
    let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

/// Whether `signature` (Base64) by `algorithm` over `text` checks out with the certificate's key.
pub fn verify(certificate_pem: &str, algorithm: &str, text: &str, signature_b64: &str) -> bool {
    let (Some(public), Ok(sig)) =
        (certificate_key(certificate_pem), base64::engine::general_purpose::STANDARD.decode(signature_b64))
    else {
        return false;
    };
    let alg: &dyn signature::VerificationAlgorithm = match algorithm {
        ECDSA => &signature::ECDSA_P256_SHA256_ASN1,
        RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return false,
    };
    signature::UnparsedPublicKey::new(alg, public).verify(text.as_bytes(), &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists_parse_and_bad_ones_name_the_problem() {
        let keys = parse_key_files("G01=/k/g01.crt:/k/g01.key, H26=/k/h.crt:/k/h.key").expect("parsed");
        assert_eq!(keys.len(), 2);
        assert_eq!((keys[1].agency_code.as_str(), keys[1].private_key.to_str()), ("H26", Some("/k/h.key")));
        assert!(parse_key_files("G01").expect_err("refused").contains("CODE="));
        assert!(parse_key_files("G01=/only-one.pem").expect_err("refused").contains("cert.pem:key.pem"));
        assert!(Signers::load(&parse_key_files("G01=/nonexistent.crt:/nonexistent.key").expect("parsed")).is_err());
    }
}
