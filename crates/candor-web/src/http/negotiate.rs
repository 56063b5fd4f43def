//! Choosing a content coding from `Accept-Encoding` (RFC 9110 §12.5.3), without allocating:
//! it runs on every page view.

use axum::http::header::ACCEPT_ENCODING;
use axum::http::HeaderMap;

/// A content coding a response can be sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

/// What the client accepts, as weights in thousandths (`q=0.5` is 500); `None` when the coding
/// is not named.
#[derive(Default, Debug)]
struct Weights {
    br: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

/// The coding to send: the one with the highest weight among those available (`br`, `gzip` when
/// the page has them; identity always), ties going to the smaller body (brotli, then gzip).
/// Without the header, identity. When the client refuses every available coding (`identity;q=0`
/// with nothing else usable) the page is sent uncompressed anyway, which RFC 9110 allows, rather
/// than an error page a browser would not show better.
pub fn choose(headers: &HeaderMap, have_brotli: bool, have_gzip: bool) -> Coding {
    let mut w = Weights::default();
    let mut present = false;
    for value in headers.get_all(ACCEPT_ENCODING) {
        present = true;
        let Ok(value) = value.to_str() else { continue };
        for element in value.split(',') {
            let mut parts = element.split(';');
            let name = parts.next().unwrap_or("").trim();
            let mut q = Some(1000);
            for param in parts {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                if k.trim().eq_ignore_ascii_case("q") {
                    q = qvalue(v.trim());
                }
            }
            let Some(q) = q else { continue }; // a malformed weight: ignore the element
            let slot = if name.eq_ignore_ascii_case("br") {
                &mut w.br
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                &mut w.gzip
            } else if name.eq_ignore_ascii_case("identity") {
                &mut w.identity
            } else if name == "*" {
                &mut w.any
            } else {
                continue;
            };
            // Named twice: the higher weight wins.
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
    }
    if !present {
        return Coding::Identity;
    }
    // Identity is acceptable unless excluded, by name or by `*` without naming it.
    let identity = w.identity.or(w.any).unwrap_or(1);
    let candidates = [
        (
            Coding::Brotli,
            if have_brotli { w.br.or(w.any).unwrap_or(0) } else { 0 },
        ),
        (Coding::Gzip, if have_gzip { w.gzip.or(w.any).unwrap_or(0) } else { 0 }),
        (Coding::Identity, identity),
    ];
    let mut best = (Coding::Identity, 0);
    for (coding, q) in candidates {
        if q > best.1 {
            best = (coding, q);
        }
    }
    best.0
}

/// `0`, `0.5`, `1`, `1.000`: a weight in thousandths; `None` when malformed (RFC 9110 §12.4.2).
fn qvalue(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pick(accept: &[&str]) -> Coding {
        let mut h = HeaderMap::new();
        for a in accept {
            h.append(ACCEPT_ENCODING, a.parse().unwrap());
        }
        choose(&h, true, true)
    }

    #[test]
    fn browsers_get_brotli_and_older_clients_gzip() {
        assert_eq!(pick(&["gzip, deflate, br, zstd"]), Coding::Brotli);
        assert_eq!(pick(&["gzip, deflate"]), Coding::Gzip);
        assert_eq!(pick(&["x-gzip"]), Coding::Gzip);
        assert_eq!(pick(&[]), Coding::Identity);
        assert_eq!(pick(&[""]), Coding::Identity);
        assert_eq!(pick(&["deflate"]), Coding::Identity);
    }

    #[test]
    fn weights_decide() {
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.8"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0, gzip"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0, gzip;q=0"]), Coding::Identity);
        assert_eq!(pick(&["gzip;q=0.5, identity;q=0.9"]), Coding::Identity);
        assert_eq!(pick(&["*"]), Coding::Brotli);
        assert_eq!(pick(&["*;q=0.1, identity;q=0.2"]), Coding::Identity);
        assert_eq!(pick(&["gzip;q=0.001", "BR;Q=0.002"]), Coding::Brotli);
        // Identity refused and nothing else usable: sent uncompressed anyway.
        assert_eq!(pick(&["identity;q=0"]), Coding::Identity);
        assert_eq!(pick(&["identity;q=0, gzip;q=0.1"]), Coding::Gzip);
        assert_eq!(pick(&["*;q=0, gzip"]), Coding::Gzip);
    }

    #[test]
    fn malformed_weights_are_ignored() {
        assert_eq!(pick(&["br;q=2, gzip"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=0.5555, gzip;q=0.1"]), Coding::Gzip);
        assert_eq!(pick(&["br;q=abc"]), Coding::Identity);
    }

    #[test]
    fn only_available_codings_are_chosen() {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, "br, gzip".parse().unwrap());
        assert_eq!(choose(&h, false, true), Coding::Gzip);
        assert_eq!(choose(&h, false, false), Coding::Identity);
    }

    #[test]
    fn qvalues() {
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0."), Some(0));
        assert_eq!(qvalue("0.25"), Some(250));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("1.001"), None);
        assert_eq!(qvalue(""), None);
        assert_eq!(qvalue("-0"), None);
    }

    proptest! {
        /// A coding with weight 0 is never chosen, whatever else the header says.
        #[test]
        fn a_refused_coding_is_never_sent(extra in "[a-z*;=.0-9, ]{0,40}") {
            for (refused, coding) in [("br", Coding::Brotli), ("gzip", Coding::Gzip)] {
                let mut h = HeaderMap::new();
                let Ok(v) = format!("{extra}, {refused};q=0").parse() else { return Ok(()) };
                h.insert(ACCEPT_ENCODING, v);
                // The refusal is last and a repeated name keeps its highest weight, so only
                // test headers that do not name the coding elsewhere.
                if extra.contains(refused) || extra.contains('*') { continue }
                prop_assert_ne!(choose(&h, true, true), coding);
            }
        }
    }
}
