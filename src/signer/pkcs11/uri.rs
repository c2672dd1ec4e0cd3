//! `pkcs11:` URIs (RFC 7512): which module, which token, which key.
//!
//! ```text
//! pkcs11:token=PyPI%20root;object=alice-2026?module-path=/usr/lib/softhsm/libsofthsm2.so
//! ```
//!
//! Only the attributes conclave acts on are accepted. An attribute conclave does not
//! understand is refused rather than ignored: RFC 7512 §3.3 lets a URI narrow the match, and
//! silently dropping a narrowing attribute could pick another token's key at a ceremony.

use std::path::PathBuf;

/// A parsed `pkcs11:` URI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: the token label (CKA_LABEL of the token, `CK_TOKEN_INFO.label`).
    pub token: Option<String>,
    /// `serial`: the token's serial number, to pick one of several tokens with one label.
    pub serial: Option<String>,
    /// `manufacturer`: the token's `CK_TOKEN_INFO.manufacturerID`.
    pub manufacturer: Option<String>,
    /// `model`: the token's `CK_TOKEN_INFO.model`.
    pub model: Option<String>,
    /// `slot-id`: the module's slot number.
    pub slot_id: Option<u64>,
    /// `object`: the key's CKA_LABEL.
    pub object: Option<String>,
    /// `id`: the key's CKA_ID (raw bytes after percent-decoding).
    pub id: Option<Vec<u8>>,
    /// `module-path`: the PKCS#11 module (shared library) to load.
    pub module_path: Option<PathBuf>,
    /// `pin-source`: a file whose first line is the user PIN.
    pub pin_source: Option<PathBuf>,
}

/// Why a `pkcs11:` URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The text does not start with the `pkcs11:` scheme (case-insensitive, RFC 3986 §3.1).
    #[error("a PKCS#11 URI starts with \"pkcs11:\"")]
    Scheme,
    /// A path or query component (given here) has no `=`.
    #[error("\"{0}\" is not of the form NAME=VALUE")]
    NotAttribute(String),
    /// The named attribute appears twice (RFC 7512 §2.3 allows each once); refused rather
    /// than letting one value win silently.
    #[error("attribute \"{0}\" appears twice (RFC 7512 allows each attribute once)")]
    Repeated(String),
    /// The named attribute's value is empty after decoding.
    #[error("attribute \"{0}\" has an empty value")]
    Empty(String),
    /// A `%` not followed by two hex digits (RFC 7512 §2.3 percent-encoding).
    #[error("attribute \"{name}\": bad percent-encoding ({why})")]
    Percent {
        /// The attribute's name.
        name: String,
        /// What is wrong with the escape.
        why: &'static str,
    },
    /// A text attribute (all but `id`) decodes to bytes that are not UTF-8.
    #[error("attribute \"{0}\" is not valid UTF-8 after percent-decoding")]
    NotUtf8(String),
    /// An attribute conclave does not act on. Refused, not ignored: dropping an attribute
    /// that narrows the match (RFC 7512 §3.3) could select another token's key.
    #[error(
        "unknown attribute \"{0}\" (conclave understands token, serial, manufacturer, model, \
         slot-id, object, id and type in the path; module-path and pin-source in the query)"
    )]
    Unknown(String),
    /// A known attribute whose value or form conclave will not use: `pin-value` (the PIN
    /// would leak into shell history), `module-name`, a `|program` pin-source, a
    /// non-numeric `slot-id`, a `type` other than private/public.
    #[error("attribute \"{name}\": {why}")]
    Refused {
        /// The attribute's name.
        name: String,
        /// Why it is refused.
        why: &'static str,
    },
}

/// RFC 7512 §2.3: `%XX` escapes, decoded to bytes.
fn percent_decode(name: &str, value: &str) -> Result<Vec<u8>, UriError> {
    let bad = |why| UriError::Percent {
        name: name.to_owned(),
        why,
    };
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or_else(|| bad("'%' must be followed by two hex digits"))?;
            let s = std::str::from_utf8(hex)
                .map_err(|_| bad("'%' must be followed by two hex digits"))?;
            let b = u8::from_str_radix(s, 16)
                .map_err(|_| bad("'%' must be followed by two hex digits"))?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(name: &str, value: &str) -> Result<String, UriError> {
    let raw = percent_decode(name, value)?;
    let s = String::from_utf8(raw).map_err(|_| UriError::NotUtf8(name.to_owned()))?;
    if s.is_empty() {
        return Err(UriError::Empty(name.to_owned()));
    }
    Ok(s)
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Repeated(name.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

/// `pin-source`: RFC 7512 §2.3 leaves its form to the application. conclave takes a file
/// (`file:/abs`, `file:///abs`, `file:relative` or a bare path). p11-kit's `|program` form
/// is refused: running a program to get a PIN is not something a ceremony tool should do.
fn pin_source(value: &str) -> Result<PathBuf, UriError> {
    let v = text("pin-source", value)?;
    let path = if let Some(rest) = v.strip_prefix("file://") {
        if !rest.starts_with('/') {
            return Err(UriError::Refused {
                name: "pin-source".into(),
                why: "a file: URI with a host is not supported; write file:/path/to/pin",
            });
        }
        rest.to_owned()
    } else if let Some(rest) = v.strip_prefix("file:") {
        rest.to_owned()
    } else if v.starts_with('|') {
        return Err(UriError::Refused {
            name: "pin-source".into(),
            why: "running a program for the PIN is not supported; give file:/path/to/pin",
        });
    } else {
        v
    };
    if path.is_empty() {
        return Err(UriError::Empty("pin-source".into()));
    }
    Ok(PathBuf::from(path))
}

impl Pkcs11Uri {
    /// Parse a `pkcs11:` URI (RFC 7512 §2.3): path attributes pick the token and key, query
    /// attributes the module and PIN file. Unknown or repeated attributes are errors.
    pub fn parse(s: &str) -> Result<Self, UriError> {
        let rest = s
            .strip_prefix("pkcs11:")
            .or_else(|| {
                // The scheme is case-insensitive (RFC 3986 §3.1).
                s.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("pkcs11:"))
                    .map(|_| &s[7..])
            })
            .ok_or(UriError::Scheme)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        let mut seen_type = false;
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError::NotAttribute(attr.to_owned()))?;
            match name {
                "token" => set(&mut uri.token, name, text(name, value)?)?,
                "serial" => set(&mut uri.serial, name, text(name, value)?)?,
                "manufacturer" => set(&mut uri.manufacturer, name, text(name, value)?)?,
                "model" => set(&mut uri.model, name, text(name, value)?)?,
                "object" => set(&mut uri.object, name, text(name, value)?)?,
                "slot-id" => {
                    let n = text(name, value)?
                        .parse::<u64>()
                        .map_err(|_| UriError::Refused {
                            name: name.into(),
                            why: "must be a decimal number",
                        })?;
                    set(&mut uri.slot_id, name, n)?
                }
                "id" => {
                    let raw = percent_decode(name, value)?;
                    if raw.is_empty() {
                        return Err(UriError::Empty(name.into()));
                    }
                    set(&mut uri.id, name, raw)?
                }
                // A key pair is a private and a public object: conclave reads the public one
                // and signs with the private one, so `type` may name either and narrows nothing.
                "type" => {
                    if seen_type {
                        return Err(UriError::Repeated(name.into()));
                    }
                    seen_type = true;
                    let t = text(name, value)?;
                    if t != "private" && t != "public" {
                        return Err(UriError::Refused {
                            name: name.into(),
                            why: "conclave uses key pairs: type may be private or public",
                        });
                    }
                }
                _ => return Err(UriError::Unknown(name.to_owned())),
            }
        }
        for attr in query.into_iter().flat_map(|q| q.split('&')) {
            if attr.is_empty() {
                continue;
            }
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| UriError::NotAttribute(attr.to_owned()))?;
            match name {
                "module-path" => set(
                    &mut uri.module_path,
                    name,
                    PathBuf::from(text(name, value)?),
                )?,
                "pin-source" => set(&mut uri.pin_source, name, pin_source(value)?)?,
                "pin-value" => {
                    return Err(UriError::Refused {
                        name: name.into(),
                        why: "a PIN on the command line leaks into shell history and process \
                              listings; use pin-source=file:... or type the PIN when asked",
                    });
                }
                "module-name" => {
                    return Err(UriError::Refused {
                        name: name.into(),
                        why: "give the module's full path with module-path=... instead",
                    });
                }
                _ => return Err(UriError::Unknown(name.to_owned())),
            }
        }
        Ok(uri)
    }
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pkcs11Uri::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_uri() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=PyPI%20root;object=alice;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("PyPI root"));
        assert_eq!(u.object.as_deref(), Some("alice"));
        assert_eq!(
            u.module_path,
            Some(PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(u.pin_source, Some(PathBuf::from("/run/pin")));
    }

    #[test]
    fn rfc7512_examples_with_attributes_conclave_knows() {
        // RFC 7512 §3 examples (those not using library-* or slot-description attributes).
        let u = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=public;id=%69%95%3E%5C%F4%BD%EC%91",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(u.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(
            u.id,
            Some(vec![0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91])
        );
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        let u = Pkcs11Uri::parse("pkcs11:slot-id=3;object=k?pin-source=file:///etc/token").unwrap();
        assert_eq!(u.slot_id, Some(3));
        assert_eq!(u.pin_source, Some(PathBuf::from("/etc/token")));
    }

    #[test]
    fn refusals() {
        use UriError::*;
        let e = |s: &str| Pkcs11Uri::parse(s).unwrap_err();
        assert_eq!(e("pkcs12:token=a"), Scheme);
        assert_eq!(e("pkcs11:token=a;token=b"), Repeated("token".into()));
        assert_eq!(e("pkcs11:token="), Empty("token".into()));
        assert_eq!(e("pkcs11:token"), NotAttribute("token".into()));
        assert!(matches!(e("pkcs11:token=%4"), Percent { .. }));
        assert!(matches!(e("pkcs11:token=%zz"), Percent { .. }));
        assert_eq!(e("pkcs11:token=%ff"), NotUtf8("token".into()));
        assert_eq!(e("pkcs11:tokn=a"), Unknown("tokn".into()));
        assert_eq!(e("pkcs11:x-vendor=a"), Unknown("x-vendor".into()));
        assert_eq!(e("pkcs11:?modulepath=/x"), Unknown("modulepath".into()));
        assert!(matches!(e("pkcs11:?pin-value=1234"), Refused { .. }));
        assert!(matches!(e("pkcs11:?module-name=softhsm2"), Refused { .. }));
        assert!(matches!(
            e("pkcs11:?pin-source=%7C/bin/pin"),
            Refused { .. }
        ));
        assert!(matches!(e("pkcs11:type=cert"), Refused { .. }));
        assert!(matches!(e("pkcs11:slot-id=x"), Refused { .. }));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "pkcs11:%",
            "pkcs11:a=%",
            "pkcs11:;;;?&&",
            "PKCS11:token=x",
            "pkcs11:é=%C3%A9",
            "pkcs1",
        ] {
            let _ = Pkcs11Uri::parse(s);
        }
        assert!(Pkcs11Uri::parse("PKCS11:token=x").is_ok());
    }
}
