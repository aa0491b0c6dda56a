//! The clerk types a fragment and finds the customer at the counter.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use otp_desk_core::customers::{self, Customer, CustomerInput};
use otp_desk_core::{ManualClock, Store};
use tempfile::TempDir;

fn open() -> (TempDir, Store, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("desk.db"), Arc::new(clock.clone())).unwrap();
    (dir, store, clock)
}

fn add(
    store: &Store,
    clock: &ManualClock,
    account: &str,
    name: &str,
    email: &str,
    phone: &str,
) -> i64 {
    let mut conn = store.conn();
    customers::create(
        &mut conn,
        clock,
        "ann",
        &CustomerInput {
            account_number: account.into(),
            name: name.into(),
            email: email.into(),
            phone: phone.into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

fn ids(found: &[Customer]) -> Vec<i64> {
    found.iter().map(|c| c.id).collect()
}

fn find(store: &Store, query: &str) -> Vec<i64> {
    ids(&customers::search(&store.conn(), query, 50, 0).unwrap())
}

#[test]
fn clerk_finds_customer_by_phone_fragment_in_any_format() {
    let (_dir, store, clock) = open();
    let zed = add(&store, &clock, "WB-1", "Zed Ross", "", "(415) 555-0132");
    add(&store, &clock, "WB-2", "Amy Ross", "", "(212) 444-0177");
    for q in [
        "555 12".replace("12", "01").as_str(),
        "+1 (415) 555",
        "4155550132",
        "415-555-0132",
        "1 415 555 0132",
        "555.0132",
        "0132",
        "(415)",
        "550",
    ] {
        assert_eq!(find(&store, q), [zed], "{q:?}");
    }
    assert!(
        find(&store, "55").is_empty(),
        "two digits are too few to match a phone"
    );
    assert!(find(&store, "555 99").is_empty());
}

#[test]
fn clerk_finds_customer_by_name_prefix_whatever_the_case_and_accents() {
    let (_dir, store, clock) = open();
    let zoe = add(&store, &clock, "WB-1", "Zoë Müller", "", "");
    let sean = add(&store, &clock, "WB-2", "Siobhán O'Brien-Lee", "", "");
    add(&store, &clock, "WB-3", "Zack Miller", "", "");
    for q in ["zoe", "ZOË", "Zo", "müll", "mull", "zoe mu", "MU ZO"] {
        assert_eq!(find(&store, q), [zoe], "{q:?}");
    }
    for q in ["siobhan", "obrien", "o'brien", "brien", "lee", "obrien-lee"] {
        assert_eq!(find(&store, q), [sean], "{q:?}");
    }
    assert!(
        find(&store, "oe").is_empty(),
        "name matches start at a word"
    );
}

#[test]
fn clerk_finds_customer_by_email_prefix_or_the_start_of_any_part() {
    let (_dir, store, clock) = open();
    let jo = add(
        &store,
        &clock,
        "WB-1",
        "Jo Smith",
        "Jo.Smith+bills@Example.com",
        "",
    );
    add(
        &store,
        &clock,
        "WB-2",
        "Al Jones",
        "al@other.example.org",
        "",
    );
    for q in [
        "jo.smith+",
        "jo.smith+bills@example.com",
        "smith+bills@exa",
        "bills@exa",
        "bills",
        "@example.com",
        "example.c",
    ] {
        assert_eq!(find(&store, q), [jo], "{q:?}");
    }
    assert_eq!(find(&store, "example").len(), 2);
    assert!(
        find(&store, "mith").is_empty(),
        "a fragment must start at a part of the address"
    );
}

#[test]
fn clerk_finds_customer_by_account_number_or_its_digits() {
    let (_dir, store, clock) = open();
    let a = add(&store, &clock, "WB-0001234", "Ann", "", "");
    add(&store, &clock, "WB-0009999", "Bob", "", "");
    for q in [
        "WB-0001234",
        "wb-00012",
        "wb0001234",
        "WB 0001234",
        "0001234",
        "1234",
        "12",
    ] {
        assert_eq!(find(&store, q), [a], "{q:?}");
    }
    assert_eq!(find(&store, "wb").len(), 2);
}

#[test]
fn exact_account_number_comes_first_then_account_prefixes_then_names_emails_phones() {
    let (_dir, store, clock) = open();
    let by_phone = add(&store, &clock, "Q-1", "Pat Quinn", "", "(415) 555-0132");
    let by_email = add(&store, &clock, "Q-2", "Pat Quinn", "x415@example.com", "");
    let by_name = add(&store, &clock, "Q-3", "X415 Quinn", "", "");
    let by_prefix = add(&store, &clock, "X415-9", "Pat Quinn", "", "");
    let exact = add(&store, &clock, "X415", "Pat Quinn", "", "");
    assert_eq!(find(&store, "x415"), [exact, by_prefix, by_name, by_email]);
    assert_eq!(find(&store, "415"), [exact, by_prefix, by_phone]);
}

#[test]
fn every_word_must_match() {
    let (_dir, store, clock) = open();
    let ann_lee = add(&store, &clock, "WB-1", "Ann Lee", "", "(415) 555-0132");
    add(&store, &clock, "WB-2", "Ann Smith", "", "(415) 555-0133");
    add(&store, &clock, "WB-3", "Bob Lee", "", "");
    assert_eq!(find(&store, "ann lee"), [ann_lee]);
    assert_eq!(find(&store, "lee 0132"), [ann_lee]);
    assert_eq!(find(&store, "ann 555 0132"), [ann_lee]);
    assert!(find(&store, "ann nobody").is_empty());
}

#[test]
fn paging_with_an_offset_is_stable_and_complete() {
    let (_dir, store, clock) = open();
    let mut all = HashSet::new();
    for i in 0..120 {
        all.insert(add(
            &store,
            &clock,
            &format!("P-{i:03}"),
            &format!("Pat Number{i}"),
            "",
            "",
        ));
    }
    let conn = store.conn();
    for query in ["pat", "pat num"] {
        let mut seen = Vec::new();
        for page in 0..5 {
            let found = customers::search(&conn, query, 25, page * 25).unwrap();
            assert_eq!(
                found,
                customers::search(&conn, query, 25, page * 25).unwrap()
            );
            seen.extend(ids(&found));
        }
        assert_eq!(seen.len(), 120, "{query}");
        assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), all, "{query}");
    }
}

#[test]
fn limits_are_capped_and_an_empty_query_lists_by_account_number() {
    let (_dir, store, clock) = open();
    for i in (0..250).rev() {
        add(&store, &clock, &format!("A-{i:03}"), "Pat Doe", "", "");
    }
    let conn = store.conn();
    assert_eq!(
        customers::search(&conn, "pat", 10_000, 0).unwrap().len(),
        200
    );
    assert!(customers::search(&conn, "pat", 0, 0).unwrap().is_empty());
    let first = customers::search(&conn, "   ", 3, 0).unwrap();
    let accounts: Vec<&str> = first.iter().map(|c| c.account_number.as_str()).collect();
    assert_eq!(accounts, ["A-000", "A-001", "A-002"]);
    assert_eq!(customers::search(&conn, "", 5, 248).unwrap().len(), 2);
    assert!(customers::search(&conn, "pat", 50, u32::MAX)
        .unwrap()
        .is_empty());
}

#[test]
fn hostile_queries_return_quickly_and_harmlessly() {
    let (_dir, store, clock) = open();
    let ann = add(
        &store,
        &clock,
        "WB-1",
        "Ann Lee",
        "ann@example.com",
        "(415) 555-0132",
    );
    add(&store, &clock, "WB-2", "<script>alert(1)</script>", "", "");
    let conn = store.conn();
    let huge = "a".repeat(1 << 20);
    let huge_digits = "5".repeat(1 << 20);
    let queries = [
        huge.as_str(),
        huge_digits.as_str(),
        "'; DROP TABLE customers;--",
        "%",
        "_",
        "*",
        "\"",
        "\\",
        "ann\u{202E}",
        "\u{202E}",
        "\r\n",
        "ann\r\nlee",
        "\u{0}",
        "a b c d e f g h i j k l m n o p",
        "\u{FFFF}\u{10FFFF}",
    ];
    for q in queries {
        let t = Instant::now();
        let found = customers::search(&conn, q, 50, 0);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{:?}…",
            &q[..q.len().min(20)]
        );
        let found = found.unwrap_or_else(|e| panic!("{:?}: {e}", &q[..q.len().min(20)]));
        assert!(found.len() <= 2);
    }
    assert!(
        customers::search(&conn, "%", 50, 0).unwrap().is_empty(),
        "% is not a wildcard"
    );
    assert_eq!(
        ids(&customers::search(&conn, "ann\u{202E}", 50, 0).unwrap()),
        [ann]
    );
    assert_eq!(
        ids(&customers::search(&conn, "ann\r\nlee", 50, 0).unwrap()),
        [ann]
    );
    assert_eq!(
        customers::search(&conn, "<script>", 50, 0).unwrap().len(),
        1
    );
    assert_eq!(
        customers::count(&conn).unwrap(),
        2,
        "the table is still there"
    );
}

#[test]
fn every_run_of_three_or_more_digits_finds_the_number_and_nothing_else_does() {
    let (_dir, store, clock) = open();
    // In the UK a number is written with a trunk "0" that its E.164 form does not have.
    otp_desk_core::settings::set(&mut store.conn(), &clock, "admin", "default_region", "GB")
        .unwrap();
    let entered = [
        "020 7946 0958",
        "+1 212 444 0177",
        "+1 (415) 555-0132",
        "0161 496 0000",
    ];
    let mut digits_of = Vec::new();
    for (i, phone) in entered.iter().enumerate() {
        let id = add(&store, &clock, &format!("WB-{i}"), "Zed Ross", "", phone);
        let c = customers::get(&store.conn(), id).unwrap().unwrap();
        let e164 = c.phone_e164.expect("a valid number");
        let forms = [phone.to_string(), e164]
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>());
        digits_of.push((id, forms));
    }
    assert_eq!(digits_of[0].1, ["02079460958", "442079460958"]);
    for (id, forms) in &digits_of {
        for digits in forms {
            for start in 0..digits.len() {
                for end in start + 3..=digits.len() {
                    let run = &digits[start..end];
                    let want: Vec<i64> = digits_of
                        .iter()
                        .filter(|(_, f)| f.iter().any(|d| d.contains(run)))
                        .map(|(id, _)| *id)
                        .collect();
                    let mut got = find(&store, run);
                    got.sort_unstable();
                    assert!(got.contains(id), "{run:?} of {forms:?}");
                    assert_eq!(got, want, "{run:?}");
                }
            }
        }
    }
    for absent in ["999", "0131", "4155550133", "2079460959", "00132", "4402"] {
        assert!(find(&store, absent).is_empty(), "{absent}");
    }
}

#[test]
fn opening_a_database_indexed_at_every_digit_rebuilds_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        otp_desk_core::store::migrations()
            .to_version(&mut conn, 5)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO customers (id, account_number, name, email, phone, phone_e164,
                                    service_address, notes, created_at, updated_at)
             VALUES (7, 'WB-7', 'Ann Lee', NULL, '(415) 555-0132', '+14155550132', '', '', 0, 0);
             INSERT INTO customer_terms (term, customer_id) VALUES
               ('awb7', 7), ('a7', 7), ('nann', 7), ('nlee', 7),
               ('p14155550132', 7), ('p4155550132', 7), ('p155550132', 7), ('p55550132', 7),
               ('p5550132', 7), ('p550132', 7), ('p50132', 7), ('p0132', 7), ('p132', 7);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let conn = store.conn();
    let terms: Vec<String> = conn
        .prepare("SELECT term FROM customer_terms WHERE term LIKE 'p%' ORDER BY term")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        terms,
        ["p132", "p14155550132", "p155550132", "p50132", "p5550132"]
    );
    for q in ["0132", "555 01", "4155550132", "ann", "wb-7"] {
        assert_eq!(
            ids(&customers::search(&conn, q, 10, 0).unwrap()),
            [7],
            "{q}"
        );
    }
}

#[test]
fn deleted_customers_are_not_found() {
    let (_dir, store, clock) = open();
    let id = add(
        &store,
        &clock,
        "WB-1",
        "Ann Lee",
        "ann@example.com",
        "(415) 555-0132",
    );
    customers::delete(&mut store.conn(), &clock, "ann", id).unwrap();
    for q in ["ann", "wb-1", "0132", "example"] {
        assert!(find(&store, q).is_empty(), "{q}");
    }
}

#[test]
fn the_index_can_be_rebuilt_from_the_records() {
    let (_dir, store, clock) = open();
    let id = add(
        &store,
        &clock,
        "WB-1",
        "Ann Lee",
        "ann@example.com",
        "(415) 555-0132",
    );
    let mut conn = store.conn();
    conn.execute("DELETE FROM customer_terms", []).unwrap();
    assert!(customers::search(&conn, "lee", 10, 0).unwrap().is_empty());
    assert_eq!(customers::reindex(&mut conn).unwrap(), 1);
    assert_eq!(ids(&customers::search(&conn, "lee", 10, 0).unwrap()), [id]);
    assert_eq!(
        ids(&customers::search(&conn, "555 01", 10, 0).unwrap()),
        [id]
    );
}

#[test]
fn many_similar_customers_still_rank_and_page_sensibly() {
    let (_dir, store, clock) = open();
    {
        let mut conn = store.conn();
        customers::load_sample(&mut conn, &clock, "ann", 3000).unwrap();
    }
    let conn = store.conn();
    // A vague two-word query across thousands of candidates still answers every word.
    let found = customers::search(&conn, "j s", 200, 0).unwrap();
    assert!(!found.is_empty());
    for c in &found {
        let text = format!("{} {}", c.name, c.email.clone().unwrap_or_default()).to_lowercase();
        assert!(text.contains('j') && text.contains('s'), "{c:?}");
    }
    let smiths = customers::search(&conn, "smith", 200, 0).unwrap();
    assert!(smiths.len() > 5);
    assert!(smiths
        .iter()
        .all(|c| c.name.to_lowercase().contains("smith")
            || c.email.as_deref().unwrap_or("").contains("smith")));
}

#[test]
fn the_customers_screen_pages_through_everyone_with_the_total() {
    let dir = TempDir::new().unwrap();
    let store =
        Store::open_with_clock(dir.path().join("list.db"), Arc::new(ManualClock::start())).unwrap();
    let conn = store.conn();
    conn.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
         INSERT INTO customers (account_number, name, created_at, updated_at)
         SELECT printf('wb-%04d', 251 - i), 'Customer ' || i, 0, 0 FROM n;",
    )
    .unwrap();
    let first = customers::list(&conn, 100, 0).unwrap();
    assert_eq!(first.total, 250);
    assert_eq!(first.customers.len(), 100);
    assert_eq!(first.customers[0].account_number, "wb-0001");
    let last = customers::list(&conn, 100, 200).unwrap();
    assert_eq!(last.customers.len(), 50);
    assert_eq!(last.customers[49].account_number, "wb-0250");
    // Bounded, never refused: a huge page is capped, a page past the end is empty.
    let capped = customers::list(&conn, u32::MAX, 0).unwrap();
    assert_eq!((capped.limit, capped.customers.len()), (200, 200));
    let past = customers::list(&conn, 0, u32::MAX).unwrap();
    assert_eq!((past.limit, past.customers.len(), past.total), (1, 0, 250));
}
