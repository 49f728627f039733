//! The shop's database from the command line: `--database` / `SHOPCAST_DATABASE_URL`,
//! `db copy` between a file and a server, two tills selling the last item at once, and the
//! sentences for a database that cannot be used. On a real PostgreSQL when
//! `SHOPCAST_TEST_POSTGRES` names a server (scripts/test.sh starts one), else on files.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::{failure, shopcast_command, stdout};

/// A fresh database for one test: on the test server (created with psql), else a file.
fn fresh_database(dir: &Path, name: &str) -> String {
    match std::env::var("SHOPCAST_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => {
            let unique = format!("{name}_{}", std::process::id());
            let created = Command::new("psql")
                .arg(format!("{server}/postgres"))
                .args(["-v", "ON_ERROR_STOP=1", "-qc"])
                .arg(format!("CREATE DATABASE {unique}"))
                .output()
                .expect("psql runs (the postgresql package installs it)");
            assert!(
                created.status.success(),
                "{}",
                String::from_utf8_lossy(&created.stderr)
            );
            format!("{server}/{unique}")
        }
        _ => format!("sqlite:{}", dir.join(format!("{name}.sqlite")).display()),
    }
}

fn shopcast_on(data: &Path, database: &str, args: &[&str]) -> Output {
    shopcast_command(data)
        .arg("--database")
        .arg(database)
        .args(args)
        .output()
        .expect("shopcast runs")
}

fn products(data: &Path, database: &str) -> Vec<(String, Option<i64>)> {
    let listed: Value = serde_json::from_str(&stdout(&shopcast_on(
        data,
        database,
        &["products", "list", "--json"],
    )))
    .unwrap();
    let mut all: Vec<(String, Option<i64>)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["sku"].as_str().unwrap().to_string(), p["stock"].as_i64()))
        .collect();
    all.sort();
    all
}

fn import(data: &Path, database: &str, rows: &str) {
    std::fs::create_dir_all(data).unwrap();
    let csv = data.join("import.csv");
    std::fs::write(
        &csv,
        format!("sku,name,description,price,currency,stock,tags\n{rows}"),
    )
    .unwrap();
    stdout(&shopcast_on(
        data,
        database,
        &["settings", "set", "shop.currency", "CNY"],
    ));
    stdout(&shopcast_on(
        data,
        database,
        &["products", "import", csv.to_str().unwrap()],
    ));
}

#[test]
fn a_shop_moves_to_another_database_and_back_and_every_command_follows_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = format!("sqlite:{}", dir.path().join("till.sqlite").display());
    import(
        &data,
        &file,
        "TEA,龙井 \"Dragon Well\",,12.50,CNY,10,\nCUP,青花瓷杯,,88,CNY,5,\n",
    );
    stdout(&shopcast_on(
        &data,
        &file,
        &[
            "sell", "--sku", "TEA:2", "--sku", "CUP", "--method", "cash", "--json",
        ],
    ));

    let server = fresh_database(dir.path(), "moved");
    let copied = stdout(&shopcast_on(
        &data,
        &file,
        &["db", "copy", "--from", &file, "--to", &server, "--json"],
    ));
    let report: Value = serde_json::from_str(&copied).unwrap();
    let orders = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "orders")
        .unwrap();
    assert_eq!(
        (orders["from"].as_i64(), orders["to"].as_i64()),
        (Some(1), Some(1))
    );
    let paid = report["money"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["column"] == "payments.amount_minor")
        .unwrap();
    assert_eq!(
        (paid["from"].as_i64(), paid["to"].as_i64()),
        (Some(11300), Some(11300))
    );
    assert!(!copied.contains("secret"), "no password printed");

    // The copy is the shop: the same stock, and it sells on (through the environment too).
    assert_eq!(products(&data, &server), products(&data, &file));
    let sold = shopcast_command(&data)
        .env("SHOPCAST_DATABASE_URL", &server)
        .args(["sell", "--sku", "CUP", "--method", "cash", "--json"])
        .output()
        .unwrap();
    stdout(&sold);
    assert_eq!(
        products(&data, &server),
        vec![("CUP".to_string(), Some(3)), ("TEA".to_string(), Some(8))]
    );
    assert_eq!(
        products(&data, &file),
        vec![("CUP".to_string(), Some(4)), ("TEA".to_string(), Some(8))],
        "the file is untouched"
    );

    // Not onto a shop: refused, and the target keeps what it had.
    let refused = shopcast_on(
        &data,
        &file,
        &["db", "copy", "--from", &file, "--to", &server],
    );
    let said = failure(&refused);
    assert!(said.starts_with("error[conflict]:"), "{said}");
    assert!(said.contains("not empty"), "{said}");
    assert_eq!(products(&data, &server)[0].1, Some(3));

    // And back into a new file.
    let back = format!("sqlite:{}", dir.path().join("back.sqlite").display());
    stdout(&shopcast_on(
        &data,
        &server,
        &["db", "copy", "--from", &server, "--to", &back],
    ));
    assert_eq!(products(&data, &back), products(&data, &server));
}

#[test]
fn a_database_that_cannot_be_used_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let away = format!("postgres://shop:hunter2@127.0.0.1:{port}/shop");
    let said = failure(&shopcast_on(dir.path(), &away, &["products", "list"]));
    assert!(said.starts_with("error[database_unreachable]:"), "{said}");
    assert!(
        !said.contains("hunter2"),
        "the password is never printed: {said}"
    );

    let said = failure(&shopcast_on(dir.path(), "mysql://x", &["products", "list"]));
    assert!(said.starts_with("error[validation]:"), "{said}");
    assert!(said.contains("sqlite:PATH or postgres://"), "{said}");

    // Someone else's file is left as it was.
    let other = dir.path().join("accounts.sqlite");
    let made = Command::new("sqlite3")
        .arg(&other)
        .arg("CREATE TABLE ledger (id INTEGER PRIMARY KEY);")
        .output()
        .expect("sqlite3 runs");
    assert!(made.status.success());
    let before = std::fs::read(&other).unwrap();
    let said = failure(&shopcast_on(
        dir.path(),
        &format!("sqlite:{}", other.display()),
        &["products", "list"],
    ));
    assert!(said.starts_with("error[database_not_shopcast]:"), "{said}");
    assert!(std::fs::read(&other).unwrap() == before);
}

/// Two tills (two processes) sell the last one of a product at the same moment, 200 times:
/// each time one sale takes it and the other is told it is sold out; stock never goes below
/// zero and every sale is either recorded or refused.
#[test]
fn two_tills_selling_the_last_item_at_once_never_oversell() {
    const ROUNDS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database = fresh_database(dir.path(), "race");
    let rows: String = (0..ROUNDS)
        .map(|i| format!("LAST-{i:03},最后一件 {i},,9.90,CNY,1,\n"))
        .collect();
    import(&data, &database, &rows);
    let mut sold = 0;
    for i in 0..ROUNDS {
        let sku = format!("LAST-{i:03}");
        let tills: Vec<_> = ["前台 1", "前台 2"]
            .iter()
            .map(|till| {
                shopcast_command(&data)
                    .arg("--database")
                    .arg(&database)
                    .args(["sell", "--sku", &sku, "--method", "cash", "--till", till])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outcomes: Vec<Output> = tills
            .into_iter()
            .map(|t| t.wait_with_output().unwrap())
            .collect();
        let won = outcomes.iter().filter(|o| o.status.success()).count();
        assert_eq!(won, 1, "round {i}: exactly one till sells the last one");
        let lost = outcomes.iter().find(|o| !o.status.success()).unwrap();
        let said = String::from_utf8_lossy(&lost.stderr);
        assert!(said.starts_with("error[sold_out]:"), "round {i}: {said}");
        sold += won;
    }
    let stock = products(&data, &database);
    assert!(stock.iter().all(|(_, s)| *s == Some(0)), "{stock:?}");
    let listed: Value = serde_json::from_str(&stdout(&shopcast_on(
        &data,
        &database,
        &["payments", "list", "--json", "--limit", "1000"],
    )))
    .unwrap();
    let payments = listed.as_array().map_or(0, Vec::len);
    assert_eq!(payments, sold, "every sale recorded once");

    // Each till's share, by till: the two add up to every sale, in the list and the report.
    let mut by_till = 0;
    let mut exported = 0;
    for till in ["前台 1", "前台 2"] {
        let listed: Value = serde_json::from_str(&stdout(&shopcast_on(
            &data,
            &database,
            &[
                "payments", "list", "--json", "--limit", "1000", "--till", till,
            ],
        )))
        .unwrap();
        by_till += listed.as_array().unwrap().len();
        let out = data.join("till.csv");
        stdout(&shopcast_on(
            &data,
            &database,
            &[
                "export",
                "--from",
                "2025-01-01",
                "--to",
                "2030-12-31",
                "--format",
                "csv",
                "--till",
                till,
                "--out",
                out.to_str().unwrap(),
            ],
        ));
        exported += std::fs::read_to_string(&out).unwrap().lines().count() - 1;
    }
    assert_eq!(by_till, sold);
    assert_eq!(exported, sold);
}
