//! Which addresses Candor may call when a person gives it a URL (a monitor's target, a
//! webhook's receiver): public ones only, unless the configuration allows private ones.
//!
//! Resolving a name is I/O and happens in the caller; the caller checks every address the name
//! resolves to and connects only to an address it checked, so a name that resolves differently
//! a second time (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused, or None when Candor may connect to it. `allow_private` admits
/// loopback, private and link-local addresses (a monitor of an internal service; tests).
/// Unspecified, multicast, broadcast and documentation addresses are never useful targets.
pub fn refusal(ip: IpAddr, allow_private: bool) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    if ip.is_unspecified() || ip.is_multicast() || is_broadcast_or_reserved(ip) {
        return Some("not an address a service can listen on");
    }
    if allow_private {
        return None;
    }
    if ip.is_loopback() {
        return Some("a loopback address (this machine)");
    }
    if is_private(ip) {
        return Some("a private or internal address");
    }
    None
}

fn is_broadcast_or_reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_broadcast() || v4.is_documentation() || v4.octets()[0] >= 240,
        IpAddr::V6(v6) => (v6.segments()[0] == 0x2001 && v6.segments()[1] == 0x0db8) || v6.segments()[0] == 0x0100,
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || v4 == Ipv4Addr::new(169, 254, 169, 254)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || v6 == Ipv6Addr::LOCALHOST
                || v6.to_ipv4().is_some_and(|v4| is_private(IpAddr::V4(v4)) || v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn private_targets_are_refused_unless_allowed() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "0.1.2.3",
        ] {
            let ip = ip.parse().unwrap();
            assert!(refusal(ip, false).is_some(), "{ip} should be refused");
        }
        assert_eq!(refusal("127.0.0.1".parse().unwrap(), true), None);
        assert_eq!(refusal("10.0.0.1".parse().unwrap(), true), None);
        for ip in ["0.0.0.0", "::", "224.0.0.1", "255.255.255.255", "192.0.2.1"] {
            assert!(refusal(ip.parse().unwrap(), true).is_some(), "{ip} is never a target");
        }
        for ip in ["93.184.215.14", "2606:4700::1111", "8.8.8.8"] {
            assert_eq!(refusal(ip.parse().unwrap(), false), None, "{ip} is public");
        }
    }
}
