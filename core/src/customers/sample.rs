//! Believable made-up customers: for "Load sample customers" on a fresh install, for tests,
//! and for the benchmarks at a million customers.
//!
//! Every customer is a pure function of (seed, position), so the same call always yields the
//! same people, and any slice of a large set can be made without the rest. Email addresses
//! use the reserved example domains (RFC 2606) and phone numbers are valid US numbers, so a
//! sample customer can never be a real person's contact.

use phonenumber::country::Id as Region;
use rusqlite::{Connection, TransactionBehavior};

use super::{upsert_many, validate, CustomerError, CustomerInput, FieldError};
use crate::audit::{self, Event, Kind, Outcome};
use crate::clock::Clock;
use crate::settings;

/// Enough to try the desk; the benchmarks use the CSV import for more.
pub const MAX_SAMPLE: usize = 100_000;

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Dorothy",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Edward",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Timothy",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Kathleen",
    "Gary",
    "Amy",
    "Nicholas",
    "Shirley",
    "Eric",
    "Angela",
    "Jonathan",
    "Helen",
    "Stephen",
    "Anna",
    "Larry",
    "Brenda",
    "Justin",
    "Pamela",
    "Scott",
    "Nicole",
    "Brandon",
    "Samantha",
    "Benjamin",
    "Katherine",
    "Samuel",
    "Emma",
    "Gregory",
    "Ruth",
    "Alexander",
    "Christine",
    "Frank",
    "Catherine",
    "Raymond",
    "Debra",
    "Patrick",
    "Rachel",
    "Jack",
    "Carolyn",
    "Dennis",
    "Janet",
    "Jerry",
    "Virginia",
    "Tyler",
    "Maria",
    "Aaron",
    "Heather",
    "José",
    "Diane",
    "Adam",
    "Julie",
    "Henry",
    "Joyce",
    "Nathan",
    "Victoria",
    "Douglas",
    "Kelly",
    "Zachary",
    "Christina",
    "Peter",
    "Lauren",
    "Kyle",
    "Joan",
    "Walter",
    "Evelyn",
    "Ethan",
    "Olivia",
    "Jeremy",
    "Judith",
    "Harold",
    "Megan",
    "Keith",
    "Cheryl",
    "Christian",
    "Andrea",
    "Roger",
    "Hannah",
    "Noah",
    "Martha",
    "Gerald",
    "Jacqueline",
    "Carl",
    "Frances",
    "Terry",
    "Gloria",
    "Sean",
    "Ann",
    "Austin",
    "Teresa",
    "Arthur",
    "Kathryn",
    "Lawrence",
    "Sara",
    "Jesse",
    "Janice",
    "Dylan",
    "Jean",
    "Bryan",
    "Alice",
    "Joe",
    "Madison",
    "Jordan",
    "Doris",
    "Billy",
    "Abigail",
    "Bruce",
    "Julia",
    "Albert",
    "Judy",
    "Willie",
    "Grace",
    "Gabriel",
    "Denise",
    "Logan",
    "Amber",
    "Alan",
    "Marilyn",
    "Juan",
    "Beverly",
    "Wayne",
    "Danielle",
    "Roy",
    "Theresa",
    "Ralph",
    "Sophia",
    "Randy",
    "Marie",
    "Eugene",
    "Diana",
    "Vincent",
    "Brittany",
    "Russell",
    "Natalie",
    "Elijah",
    "Isabella",
    "Louis",
    "Charlotte",
    "Bobby",
    "Rose",
    "Philip",
    "Alexis",
    "Johnny",
    "Kayla",
    "Zoë",
    "Chloé",
    "Renée",
    "André",
    "Søren",
    "Björn",
    "François",
    "Noémie",
    "Łukasz",
    "Ana María",
    "Jean-Luc",
    "Siobhán",
    "Mónica",
    "Ingrid",
    "Mei",
    "Wei",
    "Hiroshi",
    "Yuki",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Aisha",
    "Mohammed",
    "Olga",
    "Dmitri",
    "Kwame",
    "Amara",
    "Thi",
    "Minh",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "Powell",
    "Jenkins",
    "Perry",
    "Russell",
    "Sullivan",
    "Bell",
    "Coleman",
    "Butler",
    "Henderson",
    "Barnes",
    "Gonzales",
    "Fisher",
    "Vasquez",
    "Simmons",
    "Romero",
    "Jordan",
    "Patterson",
    "Alexander",
    "Hamilton",
    "Graham",
    "Reynolds",
    "Griffin",
    "Wallace",
    "Moreno",
    "West",
    "Cole",
    "Hayes",
    "Bryant",
    "Herrera",
    "Gibson",
    "Ellis",
    "Tran",
    "Medina",
    "Aguilar",
    "Stevens",
    "Murray",
    "Ford",
    "Castro",
    "Marshall",
    "Owens",
    "Harrison",
    "Fernandez",
    "McDonald",
    "Woods",
    "Washington",
    "Kennedy",
    "Wells",
    "Vargas",
    "Henry",
    "Chen",
    "Freeman",
    "Webb",
    "Tucker",
    "Guzman",
    "Burns",
    "Crawford",
    "Olson",
    "Simpson",
    "Porter",
    "Hunter",
    "Gordon",
    "Mendez",
    "Silva",
    "Shaw",
    "Snyder",
    "Mason",
    "Dixon",
    "Muñoz",
    "Hunt",
    "Hicks",
    "Holmes",
    "Palmer",
    "Wagner",
    "Black",
    "Robertson",
    "Boyd",
    "Rose",
    "Stone",
    "Salazar",
    "Fox",
    "Warren",
    "Mills",
    "Meyer",
    "Rice",
    "Schmidt",
    "García",
    "Müller",
    "O'Brien",
    "O'Connor",
    "Smith-Jones",
    "Peña",
    "Núñez",
    "Schröder",
    "Østergaard",
    "Dubois",
    "Lefèvre",
    "Kowalski",
    "Nowak",
    "Yamamoto",
    "Tanaka",
    "Wang",
    "Li",
    "Zhang",
    "Singh",
    "Kumar",
    "Khan",
    "Ali",
    "Hassan",
    "Ivanov",
    "Mensah",
    "Okafor",
    "Pham",
    "Van der Berg",
    "De la Cruz",
];

const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "River",
    "Church",
    "Mill",
    "Sunset",
    "Highland",
    "Forest",
    "Meadow",
    "Spring",
    "Walnut",
    "Willow",
    "Jefferson",
    "Lincoln",
    "Franklin",
    "Madison",
    "Union",
    "Railroad",
    "Bridge",
];
const SUFFIXES: &[&str] = &["St", "Ave", "Rd", "Ln", "Dr", "Ct", "Way", "Blvd", "Pl"];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "627"),
    ("Riverside", "CA", "925"),
    ("Fairview", "OR", "970"),
    ("Franklin", "TN", "370"),
    ("Greenville", "SC", "296"),
    ("Bristol", "CT", "060"),
    ("Clinton", "IA", "527"),
    ("Salem", "MA", "019"),
    ("Madison", "WI", "537"),
    ("Georgetown", "TX", "786"),
    ("Arlington", "VA", "222"),
    ("Dayton", "OH", "454"),
];
/// Area codes in service, so every number is valid by libphonenumber's metadata.
const AREA_CODES: &[u16] = &[
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225,
    228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 281, 301,
    302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323,
    330, 334, 336, 337, 339, 347, 351, 352, 360, 361, 385, 386, 401, 402, 404, 405, 406, 407, 408,
    409, 410, 412, 413, 414, 415, 417, 419, 423, 425, 432, 434, 435, 440, 443, 469, 470, 478, 479,
    480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530,
    540, 541, 559, 561, 562, 563, 567, 570, 571, 573, 574, 580, 585, 586, 601, 602, 603, 605, 606,
    607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646,
    650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716,
    717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774,
    775, 781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818,
    828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870,
    901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928,
    931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985,
    989,
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "post.example.net",
];
const NOTES: &[&str] = &[
    "Gate code on file",
    "Prefers text messages",
    "Bins kept at the back lane",
    "Call before visiting",
    "Paperless billing",
    "Shared account with tenant upstairs",
    "Hard of hearing: speak clearly",
    "Commercial pickup on Tuesdays\nSecond bin on request",
];

/// SplitMix64: tiny, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn for_row(seed: u64, i: u64) -> Self {
        let mut r = Rng(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Letters and digits only, without accents: "Zoë O'Brien" → "zoe", "obrien".
fn ascii_word(s: &str) -> String {
    super::terms::fold(s)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// Customer number `i` (from 0) of the sample set `seed`. Account numbers are "WB-" and seven
/// digits, unique for the first ten million.
fn customer(seed: u64, i: usize) -> CustomerInput {
    let mut r = Rng::for_row(seed, i as u64);
    let first = *r.pick(FIRST);
    let last = *r.pick(LAST);
    let name = if r.chance(10) {
        let initial = char::from(b'A' + r.below(26) as u8);
        format!("{first} {initial}. {last}")
    } else {
        format!("{first} {last}")
    };
    let (f, l) = (ascii_word(first), ascii_word(last));
    let email = if r.chance(88) {
        let n = r.below(100);
        let local = match r.below(6) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}{l}{n}"),
            2 => format!("{}.{l}", &f[..1.min(f.len())]),
            3 => format!("{l}.{f}{n}"),
            4 => format!("{f}_{l}"),
            _ => format!("{f}+bills{n}"),
        };
        format!("{local}@{}", r.pick(DOMAINS))
    } else {
        String::new()
    };
    let phone = if r.chance(85) {
        let area = *r.pick(AREA_CODES);
        let exchange = 200 + r.below(800);
        let line = r.below(10_000);
        match r.below(7) {
            0 => format!("({area}) {exchange}-{line:04}"),
            1 => format!("{area}-{exchange}-{line:04}"),
            2 => format!("{area}.{exchange}.{line:04}"),
            3 => format!("+1 {area} {exchange} {line:04}"),
            4 => format!("{area}{exchange}{line:04}"),
            5 => format!("1-{area}-{exchange}-{line:04}"),
            _ => format!("+1 ({area}) {exchange}-{line:04}"),
        }
    } else {
        String::new()
    };
    let (city, state, zip) = *r.pick(CITIES);
    let service_address = format!(
        "{} {} {}, {city}, {state} {zip}{:02}",
        1 + r.below(9999),
        r.pick(STREETS),
        r.pick(SUFFIXES),
        r.below(100)
    );
    let notes = if r.chance(15) {
        r.pick(NOTES).to_string()
    } else {
        String::new()
    };
    CustomerInput {
        account_number: format!("WB-{:07}", i + 1),
        name,
        email,
        phone,
        service_address,
        notes,
    }
}

/// `n` sample customers, the same ones for the same seed.
pub fn synthetic(n: usize, seed: u64) -> impl Iterator<Item = CustomerInput> {
    (0..n).map(move |i| customer(seed, i))
}

/// "Load sample customers": adds `count` sample customers (at most [`MAX_SAMPLE`]), or
/// refreshes them when they are already there, so pressing it twice is harmless. Returns
/// how many sample customers were loaded.
pub fn load_sample(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    count: usize,
) -> Result<usize, CustomerError> {
    let operator = audit::operator_name(operator)?;
    if count > MAX_SAMPLE {
        return Err(CustomerError::Invalid(vec![FieldError::new(
            "count",
            format!("at most {MAX_SAMPLE} sample customers can be loaded at once"),
        )]));
    }
    let region: Region = settings::load(conn)?.region();
    let rows = synthetic(count, 1)
        .map(|input| validate(&input, region).map_err(CustomerError::Invalid))
        .collect::<Result<Vec<_>, _>>()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done = upsert_many(&tx, clock.now_ms(), &rows)?;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::CustomersImported, Outcome::Ok, &operator).detail(format!(
            "sample customers: {} added, {} updated, {} unchanged",
            done.inserted, done.updated, done.unchanged
        )),
    )?;
    tx.commit()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact;

    #[test]
    fn same_seed_same_people() {
        let a: Vec<_> = synthetic(50, 7).collect();
        let b: Vec<_> = synthetic(50, 7).collect();
        assert_eq!(a, b);
        let c: Vec<_> = synthetic(50, 8).collect();
        assert_ne!(a, c);
        assert_eq!(a[0].account_number, "WB-0000001");
        assert_eq!(a[49].account_number, "WB-0000050");
    }

    #[test]
    fn every_sample_customer_is_valid_and_phones_parse() {
        let mut no_phone = 0;
        let mut no_email = 0;
        let mut accented = 0;
        for input in synthetic(3000, 1) {
            let v = validate(&input, Region::US).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
            match &v.phone {
                Some(p) => assert!(v.phone_e164.is_some(), "{p} did not parse"),
                None => no_phone += 1,
            }
            if v.email.is_none() {
                no_email += 1;
            }
            if !v.name.is_ascii() {
                accented += 1;
            }
            assert!(
                contact::normalize_email(v.email.as_deref().unwrap_or("a@example.com")).is_ok()
            );
        }
        assert!((200..800).contains(&no_phone), "{no_phone}");
        assert!((150..600).contains(&no_email), "{no_email}");
        assert!(accented > 50, "{accented}");
    }

    #[test]
    fn phone_formats_are_mixed() {
        let phones: Vec<String> = synthetic(200, 3)
            .map(|c| c.phone)
            .filter(|p| !p.is_empty())
            .collect();
        assert!(phones.iter().any(|p| p.starts_with('(')));
        assert!(phones.iter().any(|p| p.starts_with("+1 ")));
        assert!(phones.iter().any(|p| p.contains('.')));
        assert!(phones.iter().any(|p| p.chars().all(|c| c.is_ascii_digit())));
    }
}
