//! `conclave airgap-check` in a network namespace of its own (`unshare -n`, with sysfs mounted
//! inside it so /sys/class/net shows that namespace): only loopback passes; a veth interface
//! switched on fails, named, with what to do. Needs root (or user namespaces) and iproute2;
//! without them the test fails, it does not skip.

mod common;

use common::*;

fn in_netns(script: &str) -> Outcome {
    let conclave = env!("CARGO_BIN_EXE_conclave");
    run(std::process::Command::new("unshare")
        .args(["--net", "--mount", "sh", "-euc"])
        .arg(format!(
            "mount -t sysfs sysfs /sys\n{script}\nexec \"$0\" airgap-check"
        ))
        .arg(conclave))
}

#[test]
fn only_loopback_passes() {
    let o = in_netns("");
    assert_eq!(o.code, 0, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    assert!(
        o.stdout.starts_with(
            "air-gap check passed: no network interface up except loopback (1 seen: lo)"
        ),
        "{}",
        o.stdout
    );
}

#[test]
fn an_interface_switched_on_fails_even_without_a_link() {
    let o = in_netns("ip link add v0 type veth peer name v1\nip link set v0 up");
    assert_eq!(o.code, 1, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    // v0 is up with its peer down: no link, still reported; v1 is down: not reported.
    assert!(
        o.stdout
            .contains("interface up: v0 (wired or virtual, MAC "),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("no link (cable unplugged?) but switched on"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("unplug the cable, then `sudo ip link set v0 down`"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("v1"), "{}", o.stdout);
    assert!(
        o.stderr
            .contains("error: this machine is not air-gapped: 1 interface(s) up"),
        "{}",
        o.stderr
    );
}
