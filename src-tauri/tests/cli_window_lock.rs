//! One window per shop, from outside: while a window holds the shop's lock, starting the
//! window again asks it to come forward and exits; headless commands run beside it. The test
//! plays the open window (its lock file and listener), so no display is needed.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

mod support;

use support::shopcast;

/// What the open window holds: the locked `window.lock` and `window.addr` naming its port.
fn open_window(data_dir: &Path) -> (File, TcpListener, String) {
    let lock = File::create(data_dir.join("window.lock")).unwrap();
    lock.try_lock().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let token = "0123456789abcdef0123456789abcdef".to_string();
    let port = listener.local_addr().unwrap().port();
    std::fs::write(data_dir.join("window.addr"), format!("{port} {token}\n")).unwrap();
    (lock, listener, token)
}

#[test]
fn a_second_window_on_the_same_shop_asks_the_first_to_come_forward() {
    let dir = tempfile::tempdir().unwrap();
    let (_lock, listener, token) = open_window(dir.path());
    let window = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = String::new();
        BufReader::new(&stream).read_line(&mut request).unwrap();
        (&stream).write_all(b"ok\n").unwrap();
        request
    });
    let second = shopcast(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("already open on this shop"), "{stderr}");
    assert_eq!(window.join().unwrap().trim(), format!("focus {token}"));
    assert!(
        !dir.path().join("shopcast.sqlite").exists(),
        "the second start never opened the shop"
    );
}

#[test]
fn headless_commands_run_beside_the_open_window() {
    let dir = tempfile::tempdir().unwrap();
    let (_lock, _listener, _) = open_window(dir.path());
    let csv = dir.path().join("products.csv");
    std::fs::write(
        &csv,
        "sku,name,description,price,currency,stock,tags\nCUP-1,青花瓷杯,,88.00,CNY,3,茶\n",
    )
    .unwrap();
    let import = shopcast(dir.path(), &["products", "import", csv.to_str().unwrap()]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let listed = shopcast(dir.path(), &["products", "list"]);
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).contains("CUP-1"));
}
