//! Air-gap hygiene: is any network interface or radio switched on?
//!
//! A ceremony machine must not be able to reach a network. Before a ceremony command runs,
//! [`check`] reads Linux's sysfs: every interface in `/sys/class/net` that is administratively
//! up (`IFF_UP` in `flags`) and is not loopback (`IFF_LOOPBACK`) is reported, with its
//! operational state, carrier, MAC and IPv6 addresses (from `/proc/net/if_inet6`), and whether it
//! is wireless; and every radio in `/sys/class/rfkill` (Wi-Fi, Bluetooth, mobile broadband)
//! that is not blocked. An interface that is up without a carrier (cable unplugged) still
//! counts: plugging a cable in would connect it.
//!
//! How ceremony commands use it (one call, one line for the transcript):
//!
//! ```no_run
//! let report = conclave::airgap::check();
//! if !report.is_clean() {
//!     for line in report.findings() {
//!         eprintln!("{line}");
//!     }
//!     // refuse, unless the officers chose --allow-network
//! }
//! let transcript_line: String = report.summary();
//! ```
//!
//! Limits: sysfs shows the network namespace it was mounted in (normally the machine's, which
//! is what matters); IPv4 addresses are not listed (they need netlink), the interface is.

use std::fs;
use std::path::{Path, PathBuf};

const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;

/// A non-loopback network interface that is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The interface name, e.g. `eth0`, `wlp2s0`.
    pub name: String,
    /// `operstate`: up, down, dormant, lowerlayerdown, unknown, ...
    pub operstate: String,
    /// Whether a link is detected (`carrier`); `None` when the kernel does not say.
    pub carrier: Option<bool>,
    /// Whether it is a Wi-Fi interface (sysfs has `wireless` or `phy80211` for it).
    pub wireless: bool,
    /// Its hardware address (`address`), if the kernel gives a non-empty one.
    pub mac: Option<String>,
    /// Its IPv6 addresses with prefix length, from `/proc/net/if_inet6`.
    pub ipv6: Vec<String>,
}

/// A radio (rfkill switch) that is not blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Radio {
    /// rfkill's `type`: wlan, bluetooth, wwan, ...
    pub kind: String,
    /// rfkill's `name` for the switch, e.g. `phy0`, `hci0`.
    pub name: String,
}

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AirgapReport {
    /// Non-loopback interfaces that are up.
    pub interfaces: Vec<Interface>,
    /// Radios that are not blocked.
    pub radios: Vec<Radio>,
    /// Every interface name seen (loopback and down ones included).
    pub seen: Vec<String>,
    /// Why the check could not be made (then it does not pass).
    pub problem: Option<String>,
}

/// Check this machine (the real `/sys` and `/proc`).
pub fn check() -> AirgapReport {
    check_at(Path::new("/"))
}

/// Check the sysfs and procfs under `root` (`/` for the machine itself; a directory with the
/// same layout in tests).
pub(crate) fn check_at(root: &Path) -> AirgapReport {
    let mut report = AirgapReport {
        interfaces: Vec::new(),
        radios: Vec::new(),
        seen: Vec::new(),
        problem: None,
    };
    let net = root.join("sys/class/net");
    let entries = match fs::read_dir(&net) {
        Ok(e) => e,
        Err(e) => {
            report.problem = Some(format!(
                "cannot list the network interfaces in {}: {e} (conclave can only check Linux)",
                net.display()
            ));
            return report;
        }
    };
    let ipv6 = read_ipv6(&root.join("proc/net/if_inet6"));
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let dir = net.join(name);
        let Some(flags) = read_trimmed(&dir.join("flags"))
            .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok())
        else {
            report.problem = Some(format!(
                "cannot read {}: is this interface up?",
                dir.join("flags").display()
            ));
            continue;
        };
        if flags & IFF_LOOPBACK != 0 || flags & IFF_UP == 0 {
            continue;
        }
        report.interfaces.push(Interface {
            name: name.clone(),
            operstate: read_trimmed(&dir.join("operstate")).unwrap_or_else(|| "unknown".into()),
            carrier: read_trimmed(&dir.join("carrier")).map(|c| c == "1"),
            wireless: dir.join("wireless").exists() || dir.join("phy80211").exists(),
            mac: read_trimmed(&dir.join("address")).filter(|a| !a.is_empty()),
            ipv6: ipv6
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, a)| a.clone())
                .collect(),
        });
    }
    report.seen = names;
    report.radios = read_radios(&root.join("sys/class/rfkill"));
    report
}

fn read_trimmed(p: &PathBuf) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

/// `/proc/net/if_inet6`: `ADDR(32 hex) IFINDEX PREFIXLEN SCOPE FLAGS NAME` per line.
fn read_ipv6(p: &Path) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(p) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (addr, prefix, name) = (f.first()?, f.get(2)?, f.get(5)?);
            let bits = u128::from_str_radix(addr, 16).ok()?;
            let prefix = u8::from_str_radix(prefix, 16).ok()?;
            Some((
                (*name).to_owned(),
                format!("{}/{prefix}", std::net::Ipv6Addr::from(bits)),
            ))
        })
        .collect()
}

fn read_radios(dir: &Path) -> Vec<Radio> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut radios: Vec<(String, Radio)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let p = e.path();
            let blocked = |f: &str| read_trimmed(&p.join(f)).is_some_and(|v| v == "1");
            if blocked("soft") || blocked("hard") {
                return None;
            }
            Some((
                e.file_name().to_string_lossy().into_owned(),
                Radio {
                    kind: read_trimmed(&p.join("type")).unwrap_or_else(|| "unknown".into()),
                    name: read_trimmed(&p.join("name")).unwrap_or_default(),
                },
            ))
        })
        .collect();
    radios.sort_by(|a, b| a.0.cmp(&b.0));
    radios.into_iter().map(|(_, r)| r).collect()
}

impl Interface {
    /// "up, carrier" / "lowerlayerdown, no carrier (cable unplugged?)", plus addresses.
    pub(crate) fn describe(&self) -> String {
        let carrier = match self.carrier {
            Some(true) => ", link detected",
            Some(false) => ", no link (cable unplugged?) but switched on",
            None => "",
        };
        let mut s = format!(
            "{} ({}{}, state {}{})",
            crate::display::escape(&self.name),
            if self.wireless {
                "wireless"
            } else {
                "wired or virtual"
            },
            match &self.mac {
                Some(m) => format!(", MAC {}", crate::display::escape(m)),
                None => String::new(),
            },
            crate::display::escape(&self.operstate),
            carrier
        );
        if !self.ipv6.is_empty() {
            s.push_str(&format!(", addresses {}", self.ipv6.join(" ")));
        }
        s
    }

    /// What the officers should do about it.
    pub fn advice(&self) -> String {
        let name = crate::display::escape(&self.name);
        if self.wireless {
            format!(
                "switch the radio off (`sudo rfkill block wifi`, or the laptop's wireless switch), \
                 then `sudo ip link set {name} down`; better, remove the wireless card"
            )
        } else {
            format!("unplug the cable, then `sudo ip link set {name} down`")
        }
    }
}

impl AirgapReport {
    /// No non-loopback interface up, no radio unblocked, and the check could be made.
    pub fn is_clean(&self) -> bool {
        self.interfaces.is_empty() && self.radios.is_empty() && self.problem.is_none()
    }

    /// One line per finding, each with what to do.
    pub fn findings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.problem {
            out.push(format!("cannot check: {p}"));
        }
        for i in &self.interfaces {
            out.push(format!("interface up: {} - {}", i.describe(), i.advice()));
        }
        for r in &self.radios {
            out.push(format!(
                "radio not blocked: {} {} - `sudo rfkill block {}`",
                crate::display::escape(&r.kind),
                crate::display::escape(&r.name),
                match r.kind.as_str() {
                    "wlan" => "wifi",
                    "bluetooth" => "bluetooth",
                    "wwan" => "wwan",
                    _ => "all",
                }
            ))
        }
        out
    }

    /// One line for the ceremony transcript.
    pub fn summary(&self) -> String {
        if self.is_clean() {
            return format!(
                "air-gap check passed: no network interface up except loopback ({} seen: {}), no radio unblocked",
                self.seen.len(),
                self.seen
                    .iter()
                    .map(|n| crate::display::escape(n).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        let mut parts = Vec::new();
        if let Some(p) = &self.problem {
            parts.push(format!("check incomplete ({p})"));
        }
        if !self.interfaces.is_empty() {
            parts.push(format!(
                "interfaces up: {}",
                self.interfaces
                    .iter()
                    .map(Interface::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        if !self.radios.is_empty() {
            parts.push(format!(
                "radios unblocked: {}",
                self.radios
                    .iter()
                    .map(|r| format!(
                        "{} {}",
                        crate::display::escape(&r.kind),
                        crate::display::escape(&r.name)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        format!("air-gap check FAILED: {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(root: &Path, name: &str, flags: &str, oper: &str, carrier: Option<&str>) -> PathBuf {
        let d = root.join("sys/class/net").join(name);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("flags"), format!("{flags}\n")).unwrap();
        fs::write(d.join("operstate"), format!("{oper}\n")).unwrap();
        fs::write(d.join("address"), "02:fc:00:00:00:01\n").unwrap();
        if let Some(c) = carrier {
            fs::write(d.join("carrier"), format!("{c}\n")).unwrap();
        }
        d
    }

    #[test]
    fn only_loopback_and_down_interfaces_pass() {
        let t = tempfile::tempdir().unwrap();
        iface(t.path(), "lo", "0x9", "unknown", Some("1"));
        iface(t.path(), "eth0", "0x1002", "down", None);
        let r = check_at(t.path());
        assert!(r.is_clean(), "{:?}", r);
        assert_eq!(r.seen, ["eth0", "lo"]);
        assert!(
            r.summary().starts_with("air-gap check passed"),
            "{}",
            r.summary()
        );
    }

    #[test]
    fn interfaces_that_are_up_are_reported_with_advice() {
        let t = tempfile::tempdir().unwrap();
        iface(t.path(), "lo", "0x9", "unknown", Some("1"));
        iface(t.path(), "eth0", "0x1003", "up", Some("1"));
        // Up but unplugged: still reported.
        iface(t.path(), "enp3s0", "0x1003", "down", Some("0"));
        let w = iface(t.path(), "wlan0", "0x1003", "dormant", Some("0"));
        fs::create_dir(w.join("phy80211")).unwrap();
        fs::create_dir_all(t.path().join("proc/net")).unwrap();
        fs::write(
            t.path().join("proc/net/if_inet6"),
            "fe8000000000000000fc00fffe000001 02 40 20 80     eth0\n\
             00000000000000000000000000000001 01 80 10 80       lo\n",
        )
        .unwrap();
        let r = check_at(t.path());
        assert!(!r.is_clean());
        let names: Vec<_> = r.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["enp3s0", "eth0", "wlan0"]);
        assert_eq!(r.interfaces[1].ipv6, ["fe80::fc:ff:fe00:1/64"]);
        assert_eq!(r.interfaces[0].carrier, Some(false));
        assert!(r.interfaces[2].wireless);
        let f = r.findings();
        assert!(f[0].contains("enp3s0") && f[0].contains("no link (cable unplugged?)"));
        assert!(f[1].contains("unplug the cable, then `sudo ip link set eth0 down`"));
        assert!(f[2].contains("rfkill block wifi"));
        assert!(
            r.summary()
                .starts_with("air-gap check FAILED: interfaces up: enp3s0")
        );
    }

    #[test]
    fn unblocked_radios_fail_blocked_ones_pass() {
        let t = tempfile::tempdir().unwrap();
        iface(t.path(), "lo", "0x9", "unknown", Some("1"));
        for (n, kind, soft, hard) in [
            ("rfkill0", "bluetooth", "0", "0"),
            ("rfkill1", "wlan", "1", "0"),
        ] {
            let d = t.path().join("sys/class/rfkill").join(n);
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("type"), kind).unwrap();
            fs::write(d.join("name"), format!("hci-{n}")).unwrap();
            fs::write(d.join("soft"), soft).unwrap();
            fs::write(d.join("hard"), hard).unwrap();
        }
        let r = check_at(t.path());
        assert_eq!(r.radios.len(), 1);
        assert_eq!(r.radios[0].kind, "bluetooth");
        assert!(r.findings()[0].contains("`sudo rfkill block bluetooth`"));
    }

    #[test]
    fn no_sysfs_is_not_a_pass() {
        let t = tempfile::tempdir().unwrap();
        let r = check_at(t.path());
        assert!(!r.is_clean());
        assert!(
            r.findings()[0].starts_with("cannot check:"),
            "{:?}",
            r.findings()
        );
    }
}
