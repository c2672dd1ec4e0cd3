//! The example repository the README's run command verifies is built by conclave's library,
//! deterministically (Ed25519 and RFC 6979 ECDSA signatures), and must match what is committed.
//! `CONCLAVE_REGENERATE_EXAMPLE=1 cargo test --test example_repo` rewrites it.

mod common;

use common::*;

#[test]
fn committed_example_repository_is_what_the_library_builds() {
    let committed = repo_root().join("examples/pypi-repository");
    let tmp = tempfile::tempdir().unwrap();
    build_pypi_repo(tmp.path(), 50);
    if std::env::var_os("CONCLAVE_REGENERATE_EXAMPLE").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        std::fs::create_dir_all(&committed).unwrap();
        for e in std::fs::read_dir(tmp.path()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), committed.join(e.file_name())).unwrap();
        }
    }
    let list = |d: &std::path::Path| {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(tmp.path()), list(&committed));
    for name in list(tmp.path()) {
        assert!(
            std::fs::read(tmp.path().join(&name)).unwrap()
                == std::fs::read(committed.join(&name)).unwrap(),
            "examples/pypi-repository/{name} differs from what the library builds"
        );
    }
    let o = run(conclave().arg("verify").arg(&committed));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
}
