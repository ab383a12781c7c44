//! Checking AWS Signature Version 4 on a request, as AWS does: rebuild the
//! canonical request from what arrived, derive the signing key from the
//! secret the account holds, and compare signatures (in constant time).
//!
//! Signing crates (aws-sigv4) sign; none verifies, so the canonical request
//! is built here, following the IAM User Guide ("Create a signed AWS API
//! request"). The tests sign with aws-sigv4, botocore and the AWS CLI, so
//! a mistake here shows up as their requests being refused.

use hmac::{KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The only algorithm the services rolecall serves accept.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's time may be from the server's, either way.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// What the `Authorization` header claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    /// `iam`, `ec2`, `sts`...: which service the request is for.
    pub service: String,
    /// Lower-case header names, in the order given (AWS requires them sorted).
    pub signed_headers: Vec<String>,
    /// Hex, as sent.
    pub signature: String,
}

/// Why a request's signature is refused, before or after checking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The header is there but a part is missing or malformed (AWS:
    /// IncompleteSignature).
    Incomplete(String),
    /// The signature does not match (AWS: SignatureDoesNotMatch).
    Mismatch,
}

/// Reads an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
/// Signature=…` header.
pub fn parse_authorization(header: &str) -> Result<Authorization, Refusal> {
    let (algorithm, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(Refusal::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let Some((name, value)) = part.trim().split_once('=') else {
            continue;
        };
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(Refusal::Incomplete(missing.join(" ")));
    };
    // AKID/DATE/REGION/SERVICE/aws4_request; a key id never holds a `/`.
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
        return Err(Refusal::Incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'. Credential should be scoped to correct service. Credential should be scoped with a valid terminator: 'aws4_request'.",
            scope.get(2).copied().unwrap_or_default()
        )));
    };
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers: signed_headers
            .split(';')
            .map(str::to_ascii_lowercase)
            .collect(),
        signature: signature.to_string(),
    })
}

/// What of the request the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The query string as sent, without `?` (empty for a POST).
    pub query: &'a str,
    /// Every header received: (name, value). Names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
    pub amz_date: &'a str,
}

/// RFC 3986 unreserved characters stay, everything else is escaped: SigV4's
/// `UriEncode`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same, keeping `/` (for the path).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A query string in canonical form: each name and value decoded, then
/// encoded as SigV4 requires, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let decode = |text: &str| -> String {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                utf8_percent_encode(&decode(name), UNRESERVED).to_string(),
                utf8_percent_encode(&decode(value), UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical request of SigV4 for `request`, signing `signed_headers`.
pub fn canonical_request(request: &SignedRequest, signed_headers: &[String]) -> String {
    // The path as sent is already encoded once; services other than S3
    // encode it again (botocore and aws-sigv4 do the same on their side).
    let path = if request.path.is_empty() {
        "/"
    } else {
        request.path
    };
    let canonical_path = utf8_percent_encode(path, UNRESERVED_AND_SLASH).to_string();
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_path,
        canonical_query(request.query),
        headers,
        signed_headers.join(";"),
        hex_sha256(request.body)
    )
}

/// Whether `authorization.signature` is the signature of `request` with
/// `secret`. Every signed header must be present, `host` among them.
pub fn verify(
    request: &SignedRequest,
    authorization: &Authorization,
    secret: &str,
) -> Result<(), Refusal> {
    if !authorization.signed_headers.iter().any(|h| h == "host") {
        return Err(Refusal::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    for name in &authorization.signed_headers {
        if !request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(Refusal::Mismatch);
        }
    }
    let canonical = canonical_request(request, &authorization.signed_headers);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        authorization.date, authorization.region, authorization.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        request.amz_date,
        hex_sha256(canonical.as_bytes())
    );
    let mut key = hmac(
        format!("AWS4{secret}").as_bytes(),
        authorization.date.as_bytes(),
    );
    for part in [
        authorization.region.as_bytes(),
        authorization.service.as_bytes(),
        b"aws4_request",
    ] {
        key = hmac(&key, part);
    }
    let Ok(sent) = hex::decode(&authorization.signature) else {
        return Err(Refusal::Mismatch);
    };
    let mut mac = HmacSha256::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign.as_bytes());
    // Constant-time comparison: timing says nothing about the signature.
    mac.verify_slice(&sent).map_err(|_| Refusal::Mismatch)
}

/// `X-Amz-Date` as Unix seconds, if it is `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let time = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", text).ok()?;
    Some(
        time.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// `YYYYMMDDTHHMMSSZ` of Unix seconds.
pub fn format_amz_date(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the IAM User Guide (and of aws-sigv4's test
    /// suite): `GET /?Action=ListUsers&Version=2010-05-08` to IAM,
    /// 20150830T123600Z, with the documentation's example secret.
    #[test]
    fn the_documented_example_verifies_and_a_changed_byte_does_not() {
        let headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            ),
            ("Host".to_string(), "iam.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let request = SignedRequest {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: b"",
            amz_date: "20150830T123600Z",
        };
        let authorization = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        )
        .unwrap();
        assert_eq!(authorization.service, "iam");
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        assert_eq!(verify(&request, &authorization, secret), Ok(()));
        assert_eq!(
            verify(&request, &authorization, "another secret"),
            Err(Refusal::Mismatch)
        );
        let changed = SignedRequest {
            query: "Action=ListUsers&Version=2010-05-09",
            ..request
        };
        assert_eq!(
            verify(&changed, &authorization, secret),
            Err(Refusal::Mismatch)
        );
    }

    #[test]
    fn an_incomplete_header_says_what_is_missing() {
        let Err(Refusal::Incomplete(message)) = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request",
        ) else {
            panic!("accepted");
        };
        assert!(message.contains("'Signature'"), "{message}");
        assert!(matches!(
            parse_authorization("AWS3 Credential=x"),
            Err(Refusal::Incomplete(_))
        ));
        assert!(matches!(
            parse_authorization(
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1, SignedHeaders=host, Signature=00"
            ),
            Err(Refusal::Incomplete(_))
        ));
    }

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(t, 1_440_938_160);
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    }
}
