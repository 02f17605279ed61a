//! Signatures inside PDF results: the agency's signature added to the PDF itself as an
//! incremental update (ISO 32000 §12.8): a signature field whose value holds a CMS SignedData
//! (`adbe.pkcs7.detached`) over every byte of the file but the signature itself, with the
//! agency's certificate. Any PDF reader (and poppler's `pdfsig`) checks it; the original bytes
//! stay as they were, before the update.

use chrono::{DateTime, Utc};
use cms::cert::x509::attr::{Attribute, AttributeValue};
use cms::cert::x509::certificate::Certificate;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ID_SHA_256, SHA_256_WITH_RSA_ENCRYPTION};
use der::asn1::{OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use lopdf::{dictionary, IncrementalDocument, Object, StringFormat};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;

use crate::signing::Signers;

/// Room for the CMS container (bytes): the certificate, attributes and signature with margin.
const CONTENTS: usize = 8192;
/// Stands for each ByteRange number until the offsets are known (as wide as any of them).
const WIDE: i64 = 9_999_999_999;

/// `pdf` with the agency's signature added; none when this server holds no key of the agency.
pub fn sign_pdf(
    signers: &Signers,
    agency_code: &str,
    pdf: &[u8],
    signer_name: &str,
    at: DateTime<Utc>,
) -> Result<Option<Vec<u8>>, String> {
    if !signers.has_key(agency_code) {
        return Ok(None);
    }
    let mut out = guarded(pdf, signer_name, at)?;
    let start = pdf.len();
    // Where the placeholder of the signature is, in the appended update.
    let zeros = vec![b'0'; CONTENTS * 2];
    let open = find(&out[start..], &zeros).map(|i| start + i - 1).ok_or("no signature placeholder")?;
    if out.get(open) != Some(&b'<') {
        return Err("the signature placeholder is not a hexadecimal string".into());
    }
    let close = open + 1 + zeros.len();
    if out.get(close) != Some(&b'>') {
        return Err("the signature placeholder is not closed".into());
    }
    let range = [0, open, close + 1, out.len() - close - 1];
    // Each placeholder number becomes its offset, padded to the same width.
    let wide = WIDE.to_string();
    let mut from = start;
    for value in &range[1..] {
        let at = find(&out[from..], wide.as_bytes()).map(|p| from + p).ok_or("no ByteRange placeholder")?;
        let text = format!("{value:<width$}", width = wide.len());
        out[at..at + wide.len()].copy_from_slice(text.as_bytes());
        from = at + wide.len();
    }
    let mut digest = Sha256::new();
    digest.update(&out[..open]);
    digest.update(&out[close + 1..]);
    let cms = container(signers, agency_code, &digest.finalize(), at)?.ok_or("no key")?;
    if cms.len() > CONTENTS {
        return Err(format!("the signature takes {} bytes, more than the {CONTENTS} kept for it", cms.len()));
    }
    out[open + 1..open + 1 + cms.len() * 2].copy_from_slice(hex::encode_upper(&cms).as_bytes());
    Ok(Some(out))
}

/// [`prepared`], with a PDF that makes the parser give up refused like one it cannot read (the
/// result then keeps only the detached signature).
fn guarded(pdf: &[u8], signer_name: &str, at: DateTime<Utc>) -> Result<Vec<u8>, String> {
    std::panic::catch_unwind(|| prepared(pdf, signer_name, at))
        .map_err(|_| "the PDF made its parser fail".to_string())?
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The PDF with its incremental update: the signature dictionary (placeholders for the range and
/// the container), an invisible signature field on the first page, and the form in the catalog.
fn prepared(pdf: &[u8], signer_name: &str, at: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let mut doc = IncrementalDocument::load_from(pdf).map_err(|e| format!("not a PDF that reads: {e}"))?;
    let prev = doc.get_prev_documents();
    let root = prev.trailer.get(b"Root").and_then(Object::as_reference).map_err(|e| format!("no catalog: {e}"))?;
    let page = *prev.get_pages().values().next().ok_or("no page")?;
    let existing_form = prev.get_dictionary(root).ok().and_then(|c| c.get(b"AcroForm").ok().cloned());
    doc.opt_clone_object_to_new_document(root).map_err(|e| e.to_string())?;
    doc.opt_clone_object_to_new_document(page).map_err(|e| e.to_string())?;
    let new = &mut doc.new_document;
    let when = at.with_timezone(&crate::calendar::vietnam()).format("D:%Y%m%d%H%M%S+07'00'").to_string();
    let signature = new.add_object(dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "adbe.pkcs7.detached",
        "ByteRange" => vec![Object::Integer(0), Object::Integer(WIDE), Object::Integer(WIDE), Object::Integer(WIDE)],
        "Contents" => Object::String(vec![0u8; CONTENTS], StringFormat::Hexadecimal),
        "Name" => Object::String(pdf_text(signer_name), StringFormat::Literal),
        "Reason" => Object::String(pdf_text("Kết quả giải quyết thủ tục hành chính"), StringFormat::Literal),
        "M" => Object::String(when.into_bytes(), StringFormat::Literal),
    });
    let field = new.add_object(dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => Object::String(b"Chu ky co quan".to_vec(), StringFormat::Literal),
        "V" => signature,
        "F" => 132,
        "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
        "P" => page,
    });
    // The page's annotations with the field added (kept as they were, when listed elsewhere).
    let listed = new.get_dictionary(page).ok().and_then(|d| d.get(b"Annots").ok().cloned());
    let mut annots = match listed {
        Some(Object::Array(a)) => a,
        Some(Object::Reference(id)) => {
            doc.get_prev_documents().get_object(id).and_then(Object::as_array).cloned().unwrap_or_default()
        }
        _ => Vec::new(),
    };
    annots.push(field.into());
    let page_dict = doc.new_document.get_object_mut(page).and_then(Object::as_dict_mut).map_err(|e| e.to_string())?;
    page_dict.set("Annots", annots);
    let mut fields: Vec<Object> = match existing_form {
        Some(Object::Dictionary(d)) => d.get(b"Fields").and_then(Object::as_array).cloned().unwrap_or_default(),
        Some(Object::Reference(id)) => doc
            .get_prev_documents()
            .get_dictionary(id)
            .ok()
            .and_then(|d| d.get(b"Fields").and_then(Object::as_array).ok().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    fields.push(field.into());
    let catalog = doc.new_document.get_object_mut(root).and_then(Object::as_dict_mut).map_err(|e| e.to_string())?;
    catalog.set("AcroForm", dictionary! { "Fields" => fields, "SigFlags" => 3 });
    let mut out = Vec::with_capacity(pdf.len() + CONTENTS * 2 + 2048);
    doc.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Text for a PDF text string: UTF-16BE with its byte-order mark, so that Vietnamese reads.
fn pdf_text(text: &str) -> Vec<u8> {
    let mut out = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

/// The CMS SignedData (DER) over a document whose SHA-256 is `digest`: content type, digest and
/// signing time signed by the agency's key, with its certificate.
fn container(
    signers: &Signers,
    agency_code: &str,
    digest: &[u8],
    at: DateTime<Utc>,
) -> Result<Option<Vec<u8>>, String> {
    let e = |e: der::Error| e.to_string();
    let attribute = |oid, value: Any| -> Result<Attribute, String> {
        let mut values: SetOfVec<AttributeValue> = SetOfVec::new();
        values.insert(value).map_err(e)?;
        Ok(Attribute { oid, values })
    };
    let time = UtcTime::from_unix_duration(std::time::Duration::from_secs(at.timestamp().max(0) as u64)).map_err(e)?;
    let mut signed: SetOfVec<Attribute> = SetOfVec::new();
    signed.insert(attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA).map_err(e)?)?).map_err(e)?;
    signed
        .insert(attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest).map_err(e)?).map_err(e)?)?)
        .map_err(e)?;
    signed.insert(attribute(ID_SIGNING_TIME, Any::encode_from(&time).map_err(e)?)?).map_err(e)?;
    // What is signed is the attributes' DER as a SET.
    let Some(raw) = signers.sign_raw(agency_code, &signed.to_der().map_err(e)?)? else { return Ok(None) };
    let certificate = Certificate::from_der(&raw.certificate_der).map_err(e)?;
    let sha256 = AlgorithmIdentifierOwned { oid: ID_SHA_256, parameters: None };
    let signature_algorithm = if raw.ecdsa {
        AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA_256, parameters: None }
    } else {
        AlgorithmIdentifierOwned { oid: SHA_256_WITH_RSA_ENCRYPTION, parameters: Some(Any::null()) }
    };
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate.issuer.clone(),
            serial_number: certificate.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed),
        signature_algorithm,
        signature: OctetString::new(raw.value).map_err(e)?,
        unsigned_attrs: None,
    };
    let mut digests = SetOfVec::new();
    digests.insert(sha256).map_err(e)?;
    let mut certificates = SetOfVec::new();
    certificates.insert(CertificateChoices::Certificate(certificate)).map_err(e)?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer).map_err(e)?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: digests,
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    let info = ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed_data).map_err(e)? };
    Ok(Some(info.to_der().map_err(e)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_no_pdf_are_refused_not_fatal() {
        let mut layout = crate::documents::Layout::new();
        layout.text("Giấy khai sinh", crate::documents::Style::BODY);
        let Ok(real) = layout.finish() else { panic!("a PDF to start from") };
        let at = Utc::now();
        let signed = guarded(&real, "UBND", at).unwrap_or_default();
        assert!(signed.starts_with(&real) && signed.len() > real.len(), "a PDF of our own takes a signature field");
        assert!(guarded(b"", "UBND", at).is_err());
        assert!(guarded(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "UBND", at).is_err(), "no catalog");
        assert!(guarded(b"GIF89a", "UBND", at).is_err());
        // Cut short or scrambled: whatever the parser makes of it, the call comes back.
        let mut scrambled = real.clone();
        for (i, b) in scrambled.iter_mut().enumerate().skip(9) {
            if i % 7 == 0 {
                *b = 0xff;
            }
        }
        for bytes in [real[..real.len() / 2].to_vec(), scrambled] {
            let _ = guarded(&bytes, "UBND", at);
        }
    }
}
