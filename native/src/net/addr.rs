//! Socket addresses between Rust and the kernel: the bind address from an IP literal and the
//! peer of an accepted socket, kept compact per connection (19 bytes) and formatted only when
//! JavaScript asks (as node:net does: "::ffff:1.2.3.4" for IPv4 on a dual-stack socket).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::sys::{sockaddr_storage, AF_INET, AF_INET6};

/// A peer address as accept4 reported it.
#[derive(Clone, Copy, Default)]
pub struct Peer {
    pub v6: bool,
    pub port: u16,
    pub ip: [u8; 16],
}

impl Peer {
    /// Reads an AF_INET or AF_INET6 sockaddr; anything else gives the default (empty) peer.
    pub fn from_sockaddr(sa: &sockaddr_storage) -> Peer {
        let b = &sa.bytes;
        let family = u16::from_ne_bytes([b[0], b[1]]) as i32;
        let port = u16::from_be_bytes([b[2], b[3]]);
        let mut ip = [0u8; 16];
        if family == AF_INET {
            ip[..4].copy_from_slice(&b[4..8]);
            Peer { v6: false, port, ip }
        } else if family == AF_INET6 {
            ip.copy_from_slice(&b[8..24]);
            Peer { v6: true, port, ip }
        } else {
            Peer::default()
        }
    }

    /// The address as node:net's remoteAddress writes it.
    pub fn address(&self) -> String {
        if self.v6 {
            Ipv6Addr::from(self.ip).to_string()
        } else if self.port == 0 && self.ip == [0; 16] {
            String::new()
        } else {
            Ipv4Addr::new(self.ip[0], self.ip[1], self.ip[2], self.ip[3]).to_string()
        }
    }
}

/// The sockaddr (and its length) to bind `ip:port`.
pub fn sockaddr(ip: IpAddr, port: u16) -> (sockaddr_storage, u32) {
    let mut sa = sockaddr_storage { bytes: [0; 128] };
    let b = &mut sa.bytes;
    b[2..4].copy_from_slice(&port.to_be_bytes());
    match ip {
        IpAddr::V4(v4) => {
            b[0..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
            b[4..8].copy_from_slice(&v4.octets());
            (sa, 16)
        }
        IpAddr::V6(v6) => {
            b[0..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(&v6.octets());
            (sa, 28)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_address_reads_back_as_the_same_peer() {
        for (text, port) in [("127.0.0.1", 1883u16), ("::1", 8883), ("::ffff:10.0.0.7", 65535), ("fe80::1", 1)] {
            let ip: IpAddr = text.parse().unwrap();
            let (sa, len) = sockaddr(ip, port);
            assert_eq!(len, if ip.is_ipv4() { 16 } else { 28 });
            let peer = Peer::from_sockaddr(&sa);
            assert_eq!(peer.port, port);
            assert_eq!(peer.address(), text, "{text}");
        }
    }

    #[test]
    fn an_unknown_family_is_an_empty_address() {
        let sa = sockaddr_storage { bytes: [0; 128] };
        assert_eq!(Peer::from_sockaddr(&sa).address(), "");
    }
}
